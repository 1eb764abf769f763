/* A plugin that forgot vigil_plugin_free: loading it must fail with a clear message. */
#include "vigil/plugin_abi.h"
uint32_t vigil_plugin_abi_version(void) { return VIGIL_PLUGIN_ABI_VERSION; }
const char* vigil_plugin_describe(void) { return "{\"name\":\"broken\",\"actions\":[]}"; }
char* vigil_plugin_call(const char* request) { (void)request; return 0; }

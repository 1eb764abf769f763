/* The native plugin ABI, version 1: a shared library vigil loads from its plugins folder.
 *
 * Plain C, so a plugin built with another compiler or language works. Every string is
 * UTF-8 JSON, NUL-terminated. A plugin exports exactly these four functions:
 *
 *   uint32_t    vigil_plugin_abi_version(void);   returns VIGIL_PLUGIN_ABI_VERSION it was built for
 *   const char* vigil_plugin_describe(void);      {"name", "description", "actions": [{"name", "description",
 *                                                  "access", "params": [{"name", "type", "required"}], "outputs": [...]}]};
 *                                                  static storage, never freed by vigil
 *   char*       vigil_plugin_call(const char* request);
 *                 request: {"action", "input", "idempotency_key", "purpose", "deadline_ms"}
 *                 returns {"ok": true, "output": ...} or {"ok": false, "code", "message", "retryable"},
 *                 allocated by the plugin; vigil hands it back to vigil_plugin_free
 *   void        vigil_plugin_free(char* response);
 *
 * vigil_plugin_call may be called from several threads at once; a plugin that cannot allow
 * that must serialise itself. A plugin runs inside the daemon: a crash takes the daemon
 * with it. Use an out-of-process plugin (plugins/PROTOCOL.md) for code you do not trust.
 */
#ifndef VIGIL_PLUGIN_ABI_H
#define VIGIL_PLUGIN_ABI_H

#include <stdint.h>

#define VIGIL_PLUGIN_ABI_VERSION 1u

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t (*vigil_plugin_abi_version_fn)(void);
typedef const char* (*vigil_plugin_describe_fn)(void);
typedef char* (*vigil_plugin_call_fn)(const char* request);
typedef void (*vigil_plugin_free_fn)(char* response);

#ifdef __cplusplus
}
#endif

#endif

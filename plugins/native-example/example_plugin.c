/* An example native plugin in C: `school_lookup.find` returns a clearly synthetic school
 * for a synthetic pupil. Built by CMake as plugins/native-example/libvigil_example_plugin.so. */
#include <stdlib.h>
#include <string.h>

#include "vigil/plugin_abi.h"

#ifndef EXAMPLE_ABI_VERSION
#define EXAMPLE_ABI_VERSION VIGIL_PLUGIN_ABI_VERSION
#endif

uint32_t vigil_plugin_abi_version(void) { return EXAMPLE_ABI_VERSION; }

const char* vigil_plugin_describe(void) {
  return "{\"name\":\"school_lookup\",\"description\":\"Synthetic school finder (example native plugin)\","
         "\"actions\":[{\"name\":\"find\",\"description\":\"The school of a synthetic pupil\",\"access\":\"consultation\","
         "\"params\":[{\"name\":\"pupil\",\"type\":\"string\",\"required\":true}],"
         "\"outputs\":[{\"name\":\"school\",\"type\":\"string\"},{\"name\":\"key_adult_email\",\"type\":\"string\"}]},"
         "{\"name\":\"fail\",\"description\":\"Always fails, retryably\",\"params\":[]}]}";
}

static char* copy(const char* s) {
  size_t n = strlen(s) + 1;
  char* out = malloc(n);
  if (out != NULL) memcpy(out, s, n);
  return out;
}

/* A real plugin would parse the request with a JSON library; this one only looks for the action. */
char* vigil_plugin_call(const char* request) {
  if (strstr(request, "\"action\":\"find\"") != NULL) {
    return copy("{\"ok\":true,\"output\":{\"school\":\"Synthetic Primary School\","
                "\"key_adult_email\":\"key.adult@synthetic-primary.example\"}}");
  }
  if (strstr(request, "\"action\":\"fail\"") != NULL) {
    return copy("{\"ok\":false,\"code\":\"school_system_down\",\"message\":\"the synthetic school system is down\",\"retryable\":true}");
  }
  return copy("{\"ok\":false,\"code\":\"unknown_action\",\"message\":\"no such action\",\"retryable\":false}");
}

void vigil_plugin_free(char* response) { free(response); }

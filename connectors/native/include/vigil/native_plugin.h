// Native plugins: shared libraries speaking the C ABI in vigil/plugin_abi.h, loaded with
// Boost.DLL. A wrong ABI version, a missing symbol or an unreadable description is a
// clear error at start-up naming the file, never a crash.
#pragma once

#include <string>
#include <vector>

#include "vigil/connector.h"

namespace vigil {

// Loads one plugin library and registers it under the name its description gives.
Status registerNativePlugin(ConnectorRegistry& registry, const std::string& path, int maxConcurrency = 8);
// Loads every *.so in `dir`, in name order; the first failure is returned.
Status registerNativePlugins(ConnectorRegistry& registry, const std::string& dir, std::vector<std::string>* loaded = nullptr);

}  // namespace vigil

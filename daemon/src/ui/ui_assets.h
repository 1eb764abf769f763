// The web workbench's built files (ui/, bundled by esbuild), embedded in the binary at
// build time so the daemon stays one program that works on an air-gapped network.
#pragma once

#include <string_view>
#include <vector>

namespace vigil::daemon {

struct UiAsset {
  std::string_view name;  // "index.html", "app.js", ...
  std::string_view bytes;
};

// Empty when the binary was built without the UI (-DVIGIL_UI=OFF).
const std::vector<UiAsset>& uiAssets();

}  // namespace vigil::daemon

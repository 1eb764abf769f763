#include "api/masking.h"

namespace vigil::daemon {
namespace {

// Masks the field `rest` ("child.name") inside `v`, if it is there.
void maskPath(nlohmann::json& v, const std::string& rest) {
  if (rest.empty()) {
    v = kMasked;
    return;
  }
  if (!v.is_object()) return;
  size_t dot = rest.find('.');
  std::string head = rest.substr(0, dot);
  auto it = v.find(head);
  if (it == v.end()) return;
  maskPath(*it, dot == std::string::npos ? "" : rest.substr(dot + 1));
}

}  // namespace

nlohmann::json maskAt(nlohmann::json value, const std::string& root, const std::vector<std::string>& sensitive) {
  for (const auto& s : sensitive) {
    if (s == root || root.rfind(s + ".", 0) == 0) return kMasked;
    if (s.rfind(root + ".", 0) == 0) maskPath(value, s.substr(root.size() + 1));
  }
  return value;
}

nlohmann::json maskShown(const nlohmann::json& shown, const std::vector<std::string>& sensitive, bool unmasked) {
  if (unmasked || !shown.is_object()) return shown;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = shown.begin(); it != shown.end(); ++it) out[it.key()] = maskAt(it.value(), it.key(), sensitive);
  return out;
}

}  // namespace vigil::daemon

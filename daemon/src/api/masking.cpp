#include "api/masking.h"

#include "auth/roles.h"

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

nlohmann::json maskRun(nlohmann::json run, const std::vector<std::string>& sensitive) {
  if (sensitive.empty()) return run;
  auto stepId = [](const std::string& key) { return key.substr(0, key.find('[')); };
  if (run.contains("inputs")) run["inputs"] = maskAt(run["inputs"], "inputs", sensitive);
  if (run.contains("outputs") && run["outputs"].is_object()) run["outputs"] = maskAt(run["outputs"], "outputs", sensitive);
  if (run.contains("steps") && run["steps"].is_object()) {
    for (auto it = run["steps"].begin(); it != run["steps"].end(); ++it) {
      if (it.value().contains("output")) {
        it.value()["output"] = maskAt(it.value()["output"], "steps." + stepId(it.key()) + ".output", sensitive);
      }
      if (it.value().contains("approval") && it.value()["approval"].contains("request")) {
        auto& req = it.value()["approval"]["request"];
        req["show"] = maskShown(req.value("show", nlohmann::json::object()), sensitive, false);
      }
    }
  }
  if (run.contains("events") && run["events"].is_array()) {
    for (auto& e : run["events"]) {
      if (!e.contains("data")) continue;
      auto& d = e["data"];
      const std::string type = e.value("type", "");
      if (type == "RunStarted" && d.contains("inputs")) d["inputs"] = maskAt(d["inputs"], "inputs", sensitive);
      if (type == "StepCompleted" && d.contains("output")) {
        d["output"] = maskAt(d["output"], "steps." + stepId(e.value("step", "")) + ".output", sensitive);
      }
      if (type == "ApprovalRequested" && d.contains("show")) d["show"] = maskShown(d["show"], sensitive, false);
      if (type == "RunCompleted" && d.contains("outputs")) d["outputs"] = maskAt(d["outputs"], "outputs", sensitive);
    }
  }
  return run;
}

nlohmann::json maskShown(const nlohmann::json& shown, const std::vector<std::string>& sensitive, bool unmasked) {
  if (unmasked || !shown.is_object()) return shown;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = shown.begin(); it != shown.end(); ++it) out[it.key()] = maskAt(it.value(), it.key(), sensitive);
  return out;
}

bool mayReadSensitive(const Principal& who, const Workflow* wf) {
  if (allowed(who.roles, Permission::kReadSensitive)) return true;
  if (wf == nullptr) return false;
  for (const auto& r : wf->needToKnow) {
    if (who.roles.count(r) != 0) return true;
  }
  return false;
}

}  // namespace vigil::daemon

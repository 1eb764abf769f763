// Sensitivity travels with the value: a `set:` key or a workflow output computed from a
// sensitive value (or from an object holding one) is itself sensitive, so a copy of a
// child's name is masked wherever the original is. Computed once, when the workflow loads,
// over the static paths each expression reads; a computed path (`x[expr]`) is cut at its
// first computed index, which reads the whole object before it, so the rule errs towards
// masking.
#include "builder.h"

namespace vigil::loader {
namespace {

std::string joined(const PathRef& ref) {
  std::string path;
  for (const auto& seg : ref.segments) path += (path.empty() ? "" : ".") + seg;
  return path;
}

// Whether `path` is a sensitive value, lies under one, or holds one.
bool touches(const std::string& path, const std::vector<std::string>& sensitive) {
  for (const auto& s : sensitive) {
    if (path == s || path.rfind(s + ".", 0) == 0 || s.rfind(path + ".", 0) == 0) return true;
  }
  return false;
}

bool readsSensitive(const ValueTemplate& v, const std::vector<std::string>& sensitive, const std::string& key) {
  for (const auto& slot : v.slots()) {
    const std::string at = slot.where.to_string();  // "/key/..." inside the set's object
    if (!key.empty() && at != "/" + key && at.rfind("/" + key + "/", 0) != 0) continue;
    for (const auto& part : slot.tmpl.parts()) {
      if (!part.expr) continue;
      for (const auto& ref : part.expr->paths()) {
        if (touches(joined(ref), sensitive)) return true;
      }
    }
  }
  return false;
}

}  // namespace

void Builder::deriveSensitive() {
  auto& sensitive = wf_.sensitive;
  if (sensitive.empty()) return;
  // Steps are in pre-order, so one pass sees a copy before a copy of the copy; repeat for
  // foreach bodies read after their step (bounded by the number of steps).
  for (size_t round = 0; round <= wf_.steps.size(); ++round) {
    const size_t before = sensitive.size();
    for (const auto& step : wf_.steps) {
      const auto* set = std::get_if<SetStep>(&step.body);
      if (set == nullptr || !set->values.literal().is_object()) continue;
      for (auto it = set->values.literal().begin(); it != set->values.literal().end(); ++it) {
        const std::string path = "steps." + step.id + ".output." + it.key();
        const auto& keep = wf_.notSensitive;
        if (std::find(keep.begin(), keep.end(), path) != keep.end()) continue;
        if (std::find(sensitive.begin(), sensitive.end(), path) == sensitive.end() &&
            readsSensitive(set->values, sensitive, it.key())) {
          sensitive.push_back(path);
        }
      }
    }
    if (sensitive.size() == before) break;
  }
  for (const auto& [key, value] : wf_.outputs) {
    const std::string path = "outputs." + key;
    if (readsSensitive(value, sensitive, "")) sensitive.push_back(path);
  }
  // What a connector call is sent ("steps.ID.input.KEY"): a run page shows each call's
  // input, masked as the values it was computed from are.
  for (const auto& step : wf_.steps) {
    const auto* u = std::get_if<UsesStep>(&step.body);
    if (u == nullptr) continue;
    const std::string path = "steps." + step.id + ".input";
    if (!u->with.literal().is_object()) {
      if (readsSensitive(u->with, sensitive, "")) sensitive.push_back(path);
      continue;
    }
    for (auto it = u->with.literal().begin(); it != u->with.literal().end(); ++it) {
      if (readsSensitive(u->with, sensitive, it.key())) {
        sensitive.push_back(path + "." + it.key());
      }
    }
  }
}

}  // namespace vigil::loader

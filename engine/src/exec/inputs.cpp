// Checking a run's inputs against the workflow's declared input types.
#include "vigil/engine.h"
#include "vigil/workflow.h"

namespace vigil {
namespace {

Status check(const TypeSpec& t, Json& v, const std::string& path, int depth) {
  if (depth > 32) return Status::invalidArgument(path + ": nested too deeply");
  if (!hasType(v, t.type)) {
    return Status::invalidArgument(path + ": expected " + t.type + ", got " + (v.is_null() ? "null" : v.type_name()));
  }
  if (!t.enumValues.empty()) {
    bool found = false;
    for (const auto& e : t.enumValues) found = found || e == v;
    if (!found) return Status::invalidArgument(path + ": not one of the allowed values");
  }
  if (t.type == "object") {
    for (const auto& r : t.required) {
      if (!v.contains(r)) return Status::invalidArgument(path + ": missing required field '" + r + "'");
    }
    for (const auto& [name, pt] : t.properties) {
      if (!v.contains(name)) {
        if (pt.defaultValue) v[name] = *pt.defaultValue;
        continue;
      }
      if (v[name].is_null() && std::find(t.required.begin(), t.required.end(), name) == t.required.end()) continue;
      Status s = check(pt, v[name], path + "." + name, depth + 1);
      if (!s) return s;
    }
  }
  if (t.type == "array" && t.items) {
    for (size_t i = 0; i < v.size(); ++i) {
      Status s = check(*t.items, v[i], path + "[" + std::to_string(i) + "]", depth + 1);
      if (!s) return s;
    }
  }
  return Status::ok();
}

}  // namespace

Status checkValue(const TypeSpec& t, Json& v, const std::string& path) { return check(t, v, path, 0); }

Result<Json> validateInputs(const Workflow& workflow, const Json& given) {
  Json inputs = given.is_null() ? Json::object() : given;
  if (!inputs.is_object()) return Status::invalidArgument("inputs must be a JSON object");
  for (auto it = inputs.begin(); it != inputs.end(); ++it) {
    if (workflow.inputs.count(it.key()) == 0) {
      return Status::invalidArgument("inputs." + it.key() + ": workflow '" + workflow.name + "' declares no such input");
    }
  }
  for (const auto& [name, t] : workflow.inputs) {
    if (!inputs.contains(name)) {
      if (t.defaultValue) {
        inputs[name] = *t.defaultValue;
        continue;
      }
      return Status::invalidArgument("inputs." + name + ": required input is missing");
    }
    Status s = check(t, inputs[name], "inputs." + name, 0);
    if (!s) return s;
  }
  return inputs;
}

}  // namespace vigil

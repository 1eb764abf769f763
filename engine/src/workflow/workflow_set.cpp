// Checks across workflows: every `call` names a known workflow with the inputs it
// declares, and no chain of calls leads back to where it started.
#include <deque>
#include <map>

#include "checker.h"
#include "vigil/loader.h"

namespace vigil {
namespace {

// The shortest chain of calls from workflow `from` to workflow `to` (both included), or
// empty when `to` cannot be reached.
std::vector<std::string> callPath(const std::map<std::string, const Workflow*>& byName, const std::string& from,
                                  const std::string& to) {
  std::map<std::string, std::string> cameFrom = {{from, ""}};
  std::deque<std::string> queue = {from};
  while (!queue.empty()) {
    std::string cur = queue.front();
    queue.pop_front();
    if (cur == to) {
      std::vector<std::string> path;
      for (std::string p = to; !p.empty(); p = cameFrom[p]) path.insert(path.begin(), p);
      return path;
    }
    for (const auto& s : byName.at(cur)->steps) {
      const auto* call = std::get_if<CallStep>(&s.body);
      if (call == nullptr || byName.count(call->workflow) == 0) continue;
      if (cameFrom.emplace(call->workflow, cur).second) queue.push_back(call->workflow);
    }
  }
  return {};
}

}  // namespace

std::vector<Diagnostic> checkWorkflowSet(const std::vector<std::shared_ptr<const Workflow>>& workflows) {
  std::vector<Diagnostic> diags;
  std::map<std::string, const Workflow*> byName;
  for (const auto& wf : workflows) {
    byName.emplace(wf->name, wf.get());
  }
  std::vector<std::string_view> names;
  for (const auto& [n, w] : byName) {
    names.push_back(n);
  }
  auto add = [&](const Workflow& wf, const Step& s, std::string msg) {
    diags.push_back(Diagnostic{wf.sourceFile, s.pos.line, s.pos.column, DiagnosticCategory::kSemantic, std::move(msg)});
  };
  for (const auto& wf : workflows) {
    for (const auto& s : wf->steps) {
      const auto* call = std::get_if<CallStep>(&s.body);
      // No name: the loader has already reported the step's bad 'call' value.
      if (call == nullptr || call->workflow.empty()) continue;
      auto it = byName.find(call->workflow);
      if (it == byName.end()) {
        std::string h = loader::didYouMean(call->workflow, names);
        add(*wf, s, "step '" + s.id + "' calls workflow '" + call->workflow + "', which is not among the loaded workflows" +
                        (h.empty() ? "" : " (did you mean '" + h + "'?)"));
        continue;
      }
      const Workflow& callee = *it->second;
      const Json& with = call->with.literal();
      if (!with.is_null() && !with.is_object()) continue;  // a bad 'with', already reported
      if (with.is_object()) {
        for (auto w = with.begin(); w != with.end(); ++w) {
          if (callee.inputs.count(w.key()) == 0) {
            add(*wf, s, "step '" + s.id + "' passes input '" + w.key() + "', which workflow '" + callee.name + "' does not declare");
          }
        }
      }
      for (const auto& [name, type] : callee.inputs) {
        bool given = with.is_object() && with.contains(name);
        if (!given && !type.defaultValue) {
          add(*wf, s, "step '" + s.id + "' does not pass required input '" + name + "' of workflow '" + callee.name + "'");
        }
      }
    }
  }
  // Cycles: every call that lies on a cycle is reported, in the file that makes it, so
  // each workflow of the cycle is invalid on its own and the result does not depend on
  // which workflow a search happens to start from.
  for (const auto& wf : workflows) {
    for (const auto& s : wf->steps) {
      const auto* call = std::get_if<CallStep>(&s.body);
      if (call == nullptr || byName.count(call->workflow) == 0) continue;
      std::vector<std::string> back = callPath(byName, call->workflow, wf->name);
      if (back.empty()) continue;
      std::string chain = wf->name;
      for (const auto& name : back) chain += " -> " + name;
      add(*wf, s, "step '" + s.id + "' makes a cycle of sub-workflow calls: " + chain);
    }
  }
  sortDiagnostics(diags);
  return diags;
}

}  // namespace vigil

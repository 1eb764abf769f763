// Checks across workflows: every `call` names a known workflow with the inputs it
// declares, and no chain of calls leads back to where it started.
#include <functional>
#include <map>
#include <set>

#include "checker.h"
#include "vigil/loader.h"

namespace vigil {

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
      if (call == nullptr) continue;
      auto it = byName.find(call->workflow);
      if (it == byName.end()) {
        std::string h = loader::didYouMean(call->workflow, names);
        add(*wf, s, "step '" + s.id + "' calls workflow '" + call->workflow + "', which is not among the loaded workflows" +
                        (h.empty() ? "" : " (did you mean '" + h + "'?)"));
        continue;
      }
      const Workflow& callee = *it->second;
      const Json& with = call->with.literal();
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
  // Cycles: depth-first search over the call graph, reporting each cycle once at the call
  // that closes it.
  std::map<std::string, int> state;  // 0 new, 1 on stack, 2 done
  std::vector<std::string> stack;
  std::set<std::string> reported;
  std::function<void(const Workflow&)> visit = [&](const Workflow& wf) {
    state[wf.name] = 1;
    stack.push_back(wf.name);
    for (const auto& s : wf.steps) {
      const auto* call = std::get_if<CallStep>(&s.body);
      if (call == nullptr) continue;
      auto it = byName.find(call->workflow);
      if (it == byName.end()) continue;
      int st = state[call->workflow];
      if (st == 1) {
        auto from = std::find(stack.begin(), stack.end(), call->workflow);
        std::string chain;
        for (auto p = from; p != stack.end(); ++p) chain += *p + " -> ";
        chain += call->workflow;
        if (reported.insert(wf.name + "/" + s.id).second) {
          add(wf, s, "step '" + s.id + "' makes a cycle of sub-workflow calls: " + chain);
        }
      } else if (st == 0) {
        visit(*it->second);
      }
    }
    stack.pop_back();
    state[wf.name] = 2;
  };
  for (const auto& [name, wf] : byName) {
    if (state[name] == 0) visit(*wf);
  }
  sortDiagnostics(diags);
  return diags;
}

}  // namespace vigil

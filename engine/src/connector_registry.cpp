#include "vigil/connector.h"

#include <algorithm>

#include "vigil/diagnostic.h"
#include "vigil/workflow.h"

namespace vigil {

Status ConnectorRegistry::add(const std::string& name, std::shared_ptr<Connector> connector, int maxConcurrency,
                              double maxPerSecond) {
  if (connector == nullptr || maxConcurrency < 1 || maxPerSecond < 0) {
    return Status::invalidArgument("connector '" + name + "' needs an implementation and a limit of at least 1");
  }
  std::map<std::string, ActionSpec> actions;
  for (auto& a : connector->actions()) actions[a.name] = std::move(a);
  std::lock_guard lock(mu_);
  if (!entries_.emplace(name, Entry{std::move(connector), maxConcurrency, maxPerSecond, std::move(actions)}).second) {
    return Status::alreadyExists("connector '" + name + "' is already registered");
  }
  return Status::ok();
}

std::shared_ptr<Connector> ConnectorRegistry::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.connector;
}

int ConnectorRegistry::maxConcurrency(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? 1 : it->second.maxConcurrency;
}

Status ConnectorRegistry::setLimits(const std::string& name, int maxConcurrency, double maxPerSecond) {
  if (maxConcurrency < 1 || maxPerSecond < 0) return Status::invalidArgument("connector '" + name + "': limits must be positive");
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return Status::notFound("no connector named '" + name + "'");
  it->second.maxConcurrency = maxConcurrency;
  it->second.maxPerSecond = maxPerSecond;
  return Status::ok();
}

double ConnectorRegistry::maxPerSecond(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? 0 : it->second.maxPerSecond;
}

std::vector<std::string> ConnectorRegistry::names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

std::optional<ActionSpec> ConnectorRegistry::action(const std::string& connector, const std::string& action) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(connector);
  if (it == entries_.end()) return std::nullopt;
  auto a = it->second.actions.find(action);
  if (a == it->second.actions.end()) return std::nullopt;
  return a->second;
}

std::string ConnectorRegistry::access(const std::string& connector, const std::string& action) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(connector);
  if (it == entries_.end()) return "";
  auto a = it->second.actions.find(action);
  return a == it->second.actions.end() ? "" : a->second.access;
}

std::vector<std::string> ConnectorRegistry::missing(const Workflow& wf) const {
  std::vector<std::string> out;
  for (const auto& s : wf.steps) {
    const auto* u = std::get_if<UsesStep>(&s.body);
    if (u != nullptr && find(u->connector) == nullptr &&
        std::find(out.begin(), out.end(), u->connector) == out.end()) {
      out.push_back(u->connector);
    }
  }
  return out;
}

std::vector<Diagnostic> ConnectorRegistry::check(const Workflow& wf, bool requireConnectors) const {
  std::vector<Diagnostic> out;
  // One call: a step's `uses:`, or an escalation's reminder (an e-mail whose template must
  // exist as surely as a step's).
  // A reminder's disclosure records carry their own purpose (the escalation), so only a
  // step's call must state one.
  auto checkCall = [&](const Step& s, const UsesStep& u, const std::string& what, bool needsPurpose) {
    auto error = [&](std::string msg) {
      out.push_back(Diagnostic{wf.sourceFile, s.pos.line, s.pos.column, DiagnosticCategory::kSemantic, std::move(msg)});
    };
    auto c = find(u.connector);
    if (c == nullptr && !requireConnectors) return;
    if (c == nullptr) {
      std::string known;
      for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
      error(what + " uses connector '" + u.connector + "', which is not configured (connectors: " + known + ")");
      return;
    }
    auto actions = c->actions();
    if (actions.empty()) return;
    auto a = std::find_if(actions.begin(), actions.end(), [&](const ActionSpec& x) { return x.name == u.action; });
    if (a == actions.end()) {
      std::string known;
      for (const auto& x : actions) known += (known.empty() ? "" : ", ") + x.name;
      error(what + ": connector '" + u.connector + "' has no action '" + u.action + "' (it has " + known + ")");
      return;
    }
    if (a->access == "disclosure" && needsPurpose && s.purpose.empty()) {
      // Every disclosure record must say why the data went out (the logging duty).
      error(what + " discloses data through " + u.connector + "." + u.action +
            ": say why with 'purpose:' (it is recorded with every disclosure)");
    }
    const Json& with = u.with.literal();
    if (!with.is_object()) return;  // a computed parameter object: checked when called
    Json fixed = with;
    for (const auto& slot : u.with.slots()) {
      if (fixed.contains(slot.where)) fixed[slot.where] = nullptr;  // computed at run time: not checkable now
    }
    for (const auto& problem : c->checkStatic(u.action, fixed)) {
      error(what + ": " + u.connector + "." + u.action + " " + problem);
    }
    for (auto it = with.begin(); it != with.end(); ++it) {
      bool known = std::any_of(a->params.begin(), a->params.end(), [&](const ParamSpec& p) { return p.name == it.key(); });
      if (!known && !a->openParams) {
        std::string list;
        for (const auto& p : a->params) list += (list.empty() ? "" : ", ") + p.name;
        error(what + ": " + u.connector + "." + u.action + " has no parameter '" + it.key() + "' (it takes " + list + ")");
      }
    }
    for (const auto& p : a->params) {
      if (p.required && !with.contains(p.name)) {
        error(what + ": " + u.connector + "." + u.action + " needs parameter '" + p.name + "'");
      }
    }
  };
  for (const auto& s : wf.steps) {
    if (const auto* u = std::get_if<UsesStep>(&s.body)) checkCall(s, *u, "step '" + s.id + "'", true);
    if (const auto* a = std::get_if<ApprovalStep>(&s.body)) {
      for (size_t i = 0; i < a->escalate.size(); ++i) {
        if (a->escalate[i].remind) {
          checkCall(s, *a->escalate[i].remind, "the reminder of escalation " + std::to_string(i + 1) + " of step '" + s.id + "'",
                    false);
        }
      }
    }
  }
  return out;
}

}  // namespace vigil

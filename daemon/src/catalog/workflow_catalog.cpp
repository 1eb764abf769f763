#include "catalog/workflow_catalog.h"

#include "vigil/loader.h"

namespace vigil::daemon {

WorkflowCatalog::WorkflowCatalog(Engine& engine, const ConnectorRegistry* connectors, std::shared_ptr<const Area> area,
                                 std::function<std::optional<Assignees>()> people)
    : engine_(engine), connectors_(connectors), area_(area ? std::move(area) : std::make_shared<const Area>()),
      people_(std::move(people)) {}

std::vector<Diagnostic> WorkflowCatalog::check(const Workflow& wf) const {
  std::optional<Assignees> people = people_ ? people_() : std::nullopt;
  std::shared_lock lock(mu_);
  return checkLocked(wf, {}, people);
}

std::vector<Diagnostic> WorkflowCatalog::checkLocked(const Workflow& wf, const std::vector<std::shared_ptr<const Workflow>>& batch,
                                                     const std::optional<Assignees>& people) const {
  // The set a call step resolves in: the batch, then what is active for the other names.
  std::map<std::string, std::shared_ptr<const Workflow>> byName;
  for (const auto& [name, versions] : versions_) byName[name] = versions.rbegin()->second;
  for (const auto& b : batch) {
    auto& slot = byName[b->name];
    if (slot == nullptr || slot->version <= b->version) slot = b;
  }
  byName[wf.name] = std::shared_ptr<const Workflow>(std::shared_ptr<const Workflow>(), &wf);
  std::vector<std::shared_ptr<const Workflow>> set;
  for (auto& [name, w] : byName) set.push_back(w);
  std::vector<Diagnostic> out;
  for (auto& d : checkWorkflowSet(set)) {
    if (d.file == wf.sourceFile) out.push_back(std::move(d));
  }
  PublicationContext ctx;
  ctx.connectors = connectors_;
  ctx.area = area_.get();
  ctx.people = people ? &*people : nullptr;
  ctx.webhookUser = [&](const std::string& path) -> std::string {
    for (const auto& b : batch) {
      if (b->name == wf.name) continue;
      for (const auto& t : b->triggers) {
        if (t.kind == Trigger::Kind::kWebhook && t.spec == path) return b->name;
      }
    }
    auto it = hooks_.find(path);
    return it == hooks_.end() ? "" : it->second.workflow;
  };
  for (auto& d : publicationProblems(wf, ctx)) out.push_back(std::move(d));
  sortDiagnostics(out);
  return out;
}

std::vector<WorkflowCatalog::Outcome> WorkflowCatalog::publish(const std::vector<Candidate>& batch, Origin origin) {
  std::optional<Assignees> people = people_ ? people_() : std::nullopt;
  std::vector<std::shared_ptr<const Workflow>> members;
  for (const auto& c : batch) members.push_back(c.workflow);
  std::vector<Outcome> outcomes;
  bool changed = false;
  {
    std::unique_lock lock(mu_);
    for (const auto& c : batch) {
      auto problems = checkLocked(*c.workflow, members, people);
      if (hasErrors(problems)) {
        outcomes.push_back(Outcome{Outcome::Kind::kInvalid, std::move(problems), ""});
        continue;
      }
      outcomes.push_back(admitLocked(c, origin, std::move(problems)));
      changed = changed || outcomes.back().kind == Outcome::Kind::kPublished;
    }
  }
  if (changed) {
    std::lock_guard told(listenerMu_);
    if (listener_) listener_(active());
  }
  return outcomes;
}

WorkflowCatalog::Outcome WorkflowCatalog::admitLocked(const Candidate& c, Origin origin, std::vector<Diagnostic> warnings) {
  const Workflow& wf = *c.workflow;
  auto& versions = versions_[wf.name];
  auto same = versions.find(wf.version);
  if (same != versions.end()) {
    if (same->second->hash == wf.hash) return Outcome{Outcome::Kind::kUnchanged, std::move(warnings), ""};
    // A version number names one definition: audit records and pinned runs rely on it.
    return Outcome{Outcome::Kind::kVersionExists, {},
                   "version " + std::to_string(wf.version) + " of " + wf.name +
                       " is already published with other content; publish version " +
                       std::to_string(versions.rbegin()->first + 1)};
  }
  const bool newest = versions.empty() || versions.rbegin()->first < wf.version;
  if (!newest && origin == Origin::kApi) {
    return Outcome{Outcome::Kind::kVersionTooOld, {},
                   "version " + std::to_string(versions.rbegin()->first) + " is already published; publish a higher version"};
  }
  if (Status s = engine_.publish(c.workflow, c.source); !s) {
    if (versions.empty()) versions_.erase(wf.name);
    return Outcome{Outcome::Kind::kUnavailable, {}, "the workflow could not be stored: " + s.message()};
  }
  versions[wf.version] = c.workflow;
  if (newest) {
    // The active version's webhook paths; an older version's go with it.
    for (auto it = hooks_.begin(); it != hooks_.end();) it = it->second.workflow == wf.name ? hooks_.erase(it) : std::next(it);
    for (const auto& t : wf.triggers) {
      if (t.kind == Trigger::Kind::kWebhook) hooks_[t.spec] = WebhookRoute{wf.name, t.wait};
    }
  }
  return Outcome{Outcome::Kind::kPublished, std::move(warnings), ""};
}

std::shared_ptr<const Workflow> WorkflowCatalog::latest(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = versions_.find(name);
  return it == versions_.end() ? nullptr : it->second.rbegin()->second;
}

std::shared_ptr<const Workflow> WorkflowCatalog::find(const std::string& name, int version) const {
  std::shared_lock lock(mu_);
  auto it = versions_.find(name);
  if (it == versions_.end()) return nullptr;
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : v->second;
}

std::vector<std::shared_ptr<const Workflow>> WorkflowCatalog::versions(const std::string& name) const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<const Workflow>> out;
  auto it = versions_.find(name);
  if (it != versions_.end()) {
    for (const auto& [v, wf] : it->second) out.push_back(wf);
  }
  return out;
}

std::vector<std::shared_ptr<const Workflow>> WorkflowCatalog::active() const {
  std::shared_lock lock(mu_);
  return activeLocked();
}

std::vector<std::shared_ptr<const Workflow>> WorkflowCatalog::activeLocked() const {
  std::vector<std::shared_ptr<const Workflow>> out;
  for (const auto& [name, versions] : versions_) out.push_back(versions.rbegin()->second);
  return out;
}

std::optional<WorkflowCatalog::WebhookRoute> WorkflowCatalog::webhook(const std::string& path) const {
  std::shared_lock lock(mu_);
  auto it = hooks_.find(path);
  if (it == hooks_.end()) return std::nullopt;
  return it->second;
}

void WorkflowCatalog::onChange(std::function<void(const std::vector<std::shared_ptr<const Workflow>>&)> listener) {
  std::lock_guard told(listenerMu_);
  listener_ = std::move(listener);
  if (listener_) listener_(active());
}

}  // namespace vigil::daemon

// The machines and the runs the committer applies inputs to: the published definition a
// run is pinned to (loaded from the store when this process has not published it), under
// the area it started with, and the run itself from the committer's cache or the store.
#include "engine_impl.h"

#include "vigil/loader.h"

namespace vigil {

std::shared_ptr<const RunMachine> EngineImpl::machineForName(const std::string& name) {
  std::lock_guard lock(wfMu_);
  auto it = latestByName_.find(name);
  return it == latestByName_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<const RunMachine>> EngineImpl::machineForHash(const std::string& hash, const std::string& areaHash) {
  const std::string current = o_.area ? o_.area->hash : "";
  if (areaHash != current) return machineForOldArea(hash, areaHash);
  return machineForCurrentArea(hash);
}

Result<std::shared_ptr<const RunMachine>> EngineImpl::machineForCurrentArea(const std::string& hash) {
  {
    std::lock_guard lock(wfMu_);
    auto it = byHash_.find(hash);
    if (it != byHash_.end()) return it->second;
  }
  // A run pinned to a definition this process has not published: load it from the store.
  auto source = o_.store->workflows().source(hash);
  if (!source) return source.status();
  auto loaded = loadWorkflow(*source, "workflow " + hash.substr(0, 12));
  if (!loaded.ok()) return Status::internal("stored workflow " + hash.substr(0, 12) + " no longer loads");
  auto machine = std::make_shared<const RunMachine>(loaded.workflow, o_.area);
  std::lock_guard lock(wfMu_);
  byHash_[hash] = machine;
  return machine;
}

// A run that started under another version of the area file: its own machine, so its
// deadlines are computed as they would have been (and replay agrees).
Result<std::shared_ptr<const RunMachine>> EngineImpl::machineForOldArea(const std::string& hash, const std::string& areaHash) {
  const std::string key = hash + "/" + areaHash;
  {
    std::lock_guard lock(wfMu_);
    auto it = byHashAndArea_.find(key);
    if (it != byHashAndArea_.end()) return it->second;
  }
  auto current = machineForCurrentArea(hash);
  if (!current) return current.status();
  // A run that started with no area keeps having none (only the built-in calendar).
  auto area = areaHash.empty() ? Result<std::shared_ptr<const Area>>(std::shared_ptr<const Area>())
               : o_.areaByHash   ? o_.areaByHash(areaHash)
                                 : Result<std::shared_ptr<const Area>>(Status::notFound("no area lookup"));
  std::shared_ptr<const RunMachine> machine = *current;
  if (area && (*area || areaHash.empty())) {
    machine = std::make_shared<const RunMachine>((*current)->workflowPtr(), *area);
  } else {
    o_.log->warn("area {} a run started under cannot be loaded ({}); it carries on under the current area",
                 areaHash.substr(0, 12), area ? "none" : area.status().message());
  }
  std::lock_guard lock(wfMu_);
  byHashAndArea_[key] = machine;
  return machine;
}

Result<EngineImpl::LiveRun*> EngineImpl::live(const std::string& runId, std::map<std::string, LiveRun>& created) {
  auto c = created.find(runId);
  if (c != created.end()) return &c->second;
  auto it = cache_.find(runId);
  if (it != cache_.end()) return &it->second;
  auto loaded = o_.store->runs().load(runId);
  if (!loaded) return loaded.status();
  if (!loaded->has_value()) return Status::notFound("no run " + runId);
  auto machine = machineForHash((*loaded)->workflowHash, (*loaded)->areaHash);
  if (!machine) return machine.status();
  auto [pos, inserted] = cache_.emplace(runId, LiveRun{std::move(**loaded), *machine});
  return &pos->second;
}

bool EngineImpl::runExists(const std::string& runId) {
  auto r = o_.store->runs().exists(runId);
  return !r.isOk() || *r;  // when unsure, do not start a second run with this id
}

}  // namespace vigil

// The daemon's own state: liveness, readiness, metrics (metrics.cpp), the connectors.
#include <sys/statvfs.h>

#include "api/resources.h"

namespace vigil::daemon {

std::vector<Route> OpsResource::routes() {
  using P = Permission;
  using R = OpsResource;
  return {
      {.method = "GET", .pattern = "/healthz", .isPublic = true, .handler = bind(&R::health)},
      {.method = "GET", .pattern = "/readyz", .handler = bind(&R::ready)},
      {.method = "GET", .pattern = "/metrics", .permission = P::kMetrics, .handler = bind(&R::metrics)},
      {.method = "GET", .pattern = "/api/v1/connectors", .permission = P::kReadWorkflows, .handler = bind(&R::listConnectors)},
      {.method = "GET", .pattern = "/api/v1/nodes", .permission = P::kMetrics, .handler = bind(&R::listNodes)},
  };
}

// The nodes sharing the store, as their heartbeats and the lease rows say: who is live,
// which partitions each holds, and which nobody holds (their calls and timers wait).
HttpResponse OpsResource::listNodes(HttpRequest&, Call&) {
  auto beats = ctx_.store->leases().nodes();
  auto leases = ctx_.store->leases().leases();
  if (!beats || !leases) return HttpResponse::error(503, "store_unavailable", "the store cannot be read");
  const TimePoint now = ctx_.clock->now();
  std::map<std::string, Json> held;
  Json unheld = Json::array();
  for (const auto& l : *leases) {
    if (l.node.empty() || l.expiresAt <= now) {
      unheld.push_back(l.partition);
      continue;
    }
    auto& list = held[l.node];
    if (list.is_null()) list = Json::array();
    list.push_back(l.partition);
  }
  Json items = Json::array();
  for (const auto& b : *beats) {
    auto it = held.find(b.node);
    items.push_back({{"node", b.node},
                     {"address", b.address},
                     {"heartbeat_at", formatTime(b.heartbeatAt)},
                     {"live", b.heartbeatAt + ctx_.leaseTtl > now},
                     {"this_node", b.node == ctx_.node},
                     {"partitions", it == held.end() ? Json::array() : it->second}});
  }
  return HttpResponse::json(200, {{"node", ctx_.node},
                                  {"partitions", kPartitions},
                                  {"lease_ttl_ms", ctx_.leaseTtl.count()},
                                  {"items", std::move(items)},
                                  {"unheld", std::move(unheld)}});
}

HttpResponse OpsResource::health(HttpRequest&, Call&) { return HttpResponse::json(200, {{"status", "ok"}}); }

HttpResponse OpsResource::ready(HttpRequest&, Call&) {
  auto probe = ctx_.store->work().nextTimerDue();
  if (!probe) return HttpResponse::error(503, "store_unavailable", "the store cannot be read");
  if (ctx_.engine != nullptr) {
    const EngineHealth h = ctx_.engine->health();
    if (h.storeFailing) {
      return HttpResponse::error(503, "store_failing",
                                 "the store refuses writes (" + h.storeError + "); " + std::to_string(h.queued) +
                                     " input(s) wait for a retry in " + std::to_string(h.retryIn.count()) + " ms");
    }
    if (h.leasesFailing) {
      // It cannot tell which partitions are its own: another node may be taking them over.
      return HttpResponse::error(503, "leases_failing", "this node cannot renew its partition leases (" + h.leaseError + ")");
    }
    if (h.partitionsHeld == 0) {
      return HttpResponse::error(503, "no_partitions",
                                 "this node holds no partition lease yet (the others give it a share within a few heartbeats)");
    }
    if (h.busyFor > std::chrono::seconds(30)) {
      return HttpResponse::error(503, "committer_stalled",
                                 "one batch of run transitions has taken " + std::to_string(h.busyFor.count() / 1000) + " s so far");
    }
  }
  struct statvfs fs {};
  if (!ctx_.dataDir.empty() && ::statvfs(ctx_.dataDir.c_str(), &fs) == 0 &&
      static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < 64ULL * 1024 * 1024) {
    return HttpResponse::error(503, "disk_nearly_full", "less than 64 MB is free where the data directory is");
  }
  return HttpResponse::json(200, {{"status", "ready"}});
}

}  // namespace vigil::daemon

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
  };
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

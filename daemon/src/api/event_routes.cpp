// GET /api/v1/events: server-sent events, so an open page follows what it shows without
// polling. ?run=ID streams that run's changes ({"run", "status", "seq"}: no run data, the
// page reads the run again, as a recorded read, when it changes); ?inbox=1 says only that
// approval tasks changed, never which, so nobody learns of tasks that are not theirs.
#include "api/change_hub.h"
#include "api/resources.h"

namespace vigil::daemon {

std::vector<Route> EventResource::routes() {
  return {{.method = "GET", .pattern = "/api/v1/events", .background = true, .handler = bind(&EventResource::events)}};
}

HttpResponse EventResource::events(HttpRequest& req, Call& call) {
  if (ctx_.changes == nullptr) return HttpResponse::error(404, "not_found", "this server offers no event streams");
  ChangeHub::Filter f;
  if (auto it = req.query.find("run"); it != req.query.end()) f.runId = it->second;
  if (auto it = req.query.find("inbox"); it != req.query.end()) f.inbox = it->second == "1" || it->second == "true";
  if (f.runId.empty() == !f.inbox) {
    return HttpResponse::error(400, "invalid_request", "follow one thing: run=ID or inbox=1", "run");
  }
  if (f.runId.size() > 200) return HttpResponse::error(400, "invalid_request", "run must be a run id", "run");
  const bool may = f.inbox ? allowed(call.who.roles, Permission::kDecide)
                           : allowed(call.who.roles, Permission::kReadRuns) || allowed(call.who.roles, Permission::kDecide);
  if (!may) return HttpResponse::error(403, "forbidden", "your roles do not allow following this");
  if (!ctx_.changes->reserve(call.who.user)) {
    HttpResponse r = HttpResponse::error(429, "too_many_streams", "too many open event streams; close some pages and try again");
    r.headers["Retry-After"] = "10";
    return r;
  }
  HttpResponse r;
  r.contentType = "text/event-stream; charset=utf-8";
  r.headers["X-Accel-Buffering"] = "no";  // a front proxy must pass events on as they come
  ChangeHub* hub = ctx_.changes;
  r.stream = [hub, user = call.who.user, f](std::shared_ptr<StreamSink> sink) { hub->stream(user, f, std::move(sink)); };
  return r;
}

}  // namespace vigil::daemon

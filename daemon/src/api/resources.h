// The API's resources: each owns its handlers and the list of routes that reach them.
// What several need (the definition a run is pinned to, the admin record) is in Resource.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "api/router.h"
#include "api/views.h"

namespace vigil::daemon {

class Resource {
 public:
  explicit Resource(ApiContext& ctx) : ctx_(ctx) {}
  virtual ~Resource() = default;
  virtual std::vector<Route> routes() = 0;

 protected:
  // A member handler as a route's handler.
  template <class T>
  RouteHandler bind(HttpResponse (T::*f)(HttpRequest&, Call&)) {
    T* self = static_cast<T*>(this);
    return [self, f](HttpRequest& r, Call& c) { return (self->*f)(r, c); };
  }
  // The definition a run is pinned to (from memory, or the store for older versions).
  std::shared_ptr<const Workflow> workflowOf(const RunState& run);
  // An admin action (publication, users, keys) in the audit trail.
  void recordAdmin(const Principal& who, const std::string& purpose, nlohmann::json what);

  ApiContext& ctx_;
};

class OpsResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse health(HttpRequest&, Call&);
  HttpResponse ready(HttpRequest&, Call&);
  HttpResponse metrics(HttpRequest&, Call&);
  HttpResponse listConnectors(HttpRequest&, Call&);
  HttpResponse listNodes(HttpRequest&, Call&);
};

class WorkflowResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse list(HttpRequest&, Call&);
  HttpResponse show(HttpRequest&, Call&);
  HttpResponse publish(HttpRequest&, Call&);
  HttpResponse validate(HttpRequest&, Call&);
  // Loads a {source, file} body and checks it as publication would; an answer to send on
  // failure. *warnings gets what does not stop publication.
  std::optional<HttpResponse> checkSource(HttpRequest& req, std::string* source, LoadResult* result,
                                          std::vector<Diagnostic>* warnings);
};

class RunResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse start(HttpRequest&, Call&);
  HttpResponse startNow(HttpRequest& req, const Principal& who);
  // ?wait=: "30s" or "30", 1 to 120 seconds.
  static std::optional<std::chrono::seconds> parseWait(const std::string& text);
  // The answer to a start that waits: given later, when the run ends or parks (its status,
  // what it waits on, its outputs masked and recorded), or 202 when still running at the end.
  HttpResponse awaitSettled(HttpResponse started, const Principal& who, std::chrono::seconds wait);
  HttpResponse settledAnswer(const std::string& id, const Principal& who, std::chrono::seconds wait, int code);
  HttpResponse list(HttpRequest&, Call&);
  HttpResponse show(HttpRequest&, Call&);
  HttpResponse cancel(HttpRequest&, Call&);
  HttpResponse decideCancellation(HttpRequest&, Call&);
  HttpResponse webhook(HttpRequest&, Call&);
  // Starts `workflow` once per (caller, Idempotency-Key): the run id is derived from the
  // two, and a repeat is compared with the run it names (same workflow and inputs: 200
  // duplicate; otherwise 422 idempotency_key_reused, nothing started). `via` names the
  // endpoint in the log.
  HttpResponse startOnce(const std::string& workflow, const nlohmann::json& inputs, const Principal& who,
                         const std::string& key, const std::string& via);
  // The answer to a key `who` already used: `first` is the run it started.
  HttpResponse repeatedKey(const RunState& first, const std::string& workflow, const nlohmann::json& inputs,
                           const Principal& who, const std::string& via);
};

class ApprovalResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse inbox(HttpRequest&, Call&);
  HttpResponse show(HttpRequest&, Call&);
  HttpResponse claim(HttpRequest&, Call&);
  HttpResponse decide(HttpRequest&, Call&);
  HttpResponse reassign(HttpRequest&, Call&);
  HttpResponse report(HttpRequest&, Call&);
  HttpResponse workload(HttpRequest&, Call&);
  HttpResponse lateDecisions(HttpRequest&, Call&);
  // The task as `who` is shown it, or the answer to send (not found, not assigned to them).
  std::optional<HttpResponse> loadTask(HttpRequest& req, TaskView* out, const Principal& who);
  HttpResponse showCancellation(HttpRequest&, Call&);
};

class AuditResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse verify(HttpRequest&, Call&);
  HttpResponse exportBundle(HttpRequest&, Call&);
  // Who read or disclosed run data: a page of the access log's record headers, newest
  // first; itself a recorded consultation.
  HttpResponse accessLog(HttpRequest&, Call&);
  HttpResponse publicKey(HttpRequest&, Call&);
  HttpResponse rotateKey(HttpRequest&, Call&);
};

class UserResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse listUsers(HttpRequest&, Call&);
  HttpResponse addUser(HttpRequest&, Call&);
  HttpResponse decideGrant(HttpRequest&, Call&);
  HttpResponse listGrants(HttpRequest&, Call&);
  HttpResponse revokeToken(HttpRequest&, Call&);
};

// Server-sent events: a run's changes, or that the caller's inbox changed.
class EventResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse events(HttpRequest&, Call&);
};

// Browser sessions: sign-in with a token, who am I, sign-out.
class SessionResource : public Resource {
 public:
  using Resource::Resource;
  std::vector<Route> routes() override;

 private:
  HttpResponse signIn(HttpRequest&, Call&);
  HttpResponse current(HttpRequest&, Call&);
  HttpResponse signOut(HttpRequest&, Call&);
  // Failed sign-ins by peer address in the last window: a guesser is slowed down.
  bool throttled(const std::string& peer, long long now);
  void failed(const std::string& peer, long long now);
  std::mutex mu_;
  std::map<std::string, std::vector<long long>> failures_;  // GUARDED_BY(mu_)
};

// The web workbench's page and files (ui/, embedded at build time).
class UiResource : public Resource {
 public:
  explicit UiResource(ApiContext& ctx);
  std::vector<Route> routes() override;

 private:
  HttpResponse page(HttpRequest&, Call&);
  HttpResponse asset(HttpRequest&, Call&);
};

}  // namespace vigil::daemon

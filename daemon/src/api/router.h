// Router: the one table of routes, gathered from each resource's own list, and the chain of
// middleware every request passes through before its handler (authentication, CSRF, rate
// limit, permission, purpose and the audit record of reads). A handler sees a Call: who is
// calling, how, and why; what it discloses it names in Call::access, and the audit
// middleware records that before the answer leaves, or answers 503 instead.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/roles.h"
#include "auth/user_store.h"
#include "http/http_types.h"

namespace vigil::daemon {

// A read of run data as the audit trail records it (a consultation or a disclosure).
struct AccessRecord {
  std::string kind = "consultation";
  std::string runId;  // empty: several runs, listed in `what`
  std::string step;
  std::string purpose;  // empty: the purpose the caller stated
  nlohmann::json what;  // null: the caller's token id
  std::string recipient;
};

// One request as the handlers see it, filled in by the middleware.
struct Call {
  Principal who;
  bool viaSession = false;  // a browser session cookie, not a bearer token
  std::string csrf;         // that session's CSRF token
  std::string purpose;      // why run data is read (routes with Route::readsRunData)
  std::optional<AccessRecord> access;  // set by a handler that disclosed run data
};

using RouteHandler = std::function<HttpResponse(HttpRequest&, Call&)>;

struct Route {
  std::string method;
  std::string pattern;                   // "/api/v1/runs/{id}"; "{path*}" takes the rest
  std::optional<Permission> permission;  // nullopt: any authenticated caller
  bool isPublic = false;                 // no credential needed (health, sign-in, the UI's files)
  // Run data is read: the caller states a purpose (X-Vigil-Purpose or ?purpose=) unless the
  // handler names its own, and a 2xx answer leaves only once Call::access is recorded.
  bool readsRunData = false;
  bool purposeRequired = true;  // with readsRunData: false when the handler names the purpose
  bool signedDelivery = false;  // X-Vigil-Signature may stand in for a token (webhooks)
  // Not a person's doing (an open page's event stream): a browser session's idle clock is
  // not renewed by it, so an unattended page still signs out.
  bool background = false;
  RouteHandler handler;
};

// A middleware answers itself (refusing) or calls next() and may change what it returns.
using Next = std::function<HttpResponse()>;
using Middleware = std::function<HttpResponse(HttpRequest&, const Route&, Call&, const Next&)>;

class Router {
 public:
  void add(std::vector<Route> routes);
  void use(Middleware m);  // in order: the first added runs first, outermost
  // Applied to every answer, a route's or a 404 (the security headers).
  void finishWith(std::function<void(const HttpRequest&, HttpResponse&)> f) { finish_ = std::move(f); }
  // Finds the route (404 or 405 otherwise), fills req.params, and runs the chain.
  HttpResponse handle(HttpRequest& req) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::vector<Middleware> chain_;
  std::function<void(const HttpRequest&, HttpResponse&)> finish_;
};

// Matches "/api/v1/runs/{id}" against a path, filling params (not yet percent-decoded);
// segments must not be empty.
bool matchRoute(const std::string& pattern, const std::string& path, std::map<std::string, std::string>* params);

}  // namespace vigil::daemon

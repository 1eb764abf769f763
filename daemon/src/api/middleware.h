// The links every request passes through, in the order Api puts them:
//   authenticate  who is calling: a bearer token, a browser session cookie, or (webhooks
//                 only) a signed delivery; 401 otherwise, except on public routes.
//   csrf          a state-changing request made with a session cookie carries the
//                 session's CSRF token in X-CSRF-Token; 403 otherwise. Bearer tokens are
//                 never sent by a browser on its own, so they need none.
//   rateLimit     a token bucket per token (or session's token): 429 past it.
//   authorize     the route's permission against the caller's roles: 403 otherwise.
//   auditReads    a route that reads run data needs a stated purpose (400 otherwise), and
//                 its answer leaves only once the handler's Call::access is recorded in
//                 the audit trail (503 instead when it cannot be).
// securityHeaders is applied to every answer, found or not.
#pragma once

#include <memory>

#include "api/api.h"
#include "api/router.h"

namespace vigil::daemon {

Middleware authenticate(ApiContext& ctx);
Middleware csrf();
Middleware rateLimit(ApiContext& ctx);
Middleware authorize(ApiContext& ctx);
Middleware auditReads(ApiContext& ctx);
void securityHeaders(const HttpRequest& req, HttpResponse& resp);

// Records a read of run data (the log line and the audit record); false when the audit
// trail would not take it, and the data must then not be served. `statedPurpose` is used
// when the record names none.
bool recordAccess(ApiContext& ctx, const Principal& who, const AccessRecord& a, const std::string& statedPurpose);

// The session cookie's name: __Host- prefixed over HTTPS (Secure, no Domain, Path=/).
std::string sessionCookieName(bool tls);
// A cookie's value from a Cookie header ("a=1; b=2"); empty when absent.
std::string cookieValue(const std::string& header, const std::string& name);

}  // namespace vigil::daemon

// The HTTP API under /api/v1 and the web workbench's files: what the handlers share
// (ApiContext) and the composition of resources, router and middleware (Api). Every route
// is declared once, in its resource's list, with the permission it needs; docs/openapi.yaml
// describes the same routes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "auth/roles.h"
#include "auth/user_store.h"
#include "catalog/folder_loads.h"
#include "catalog/workflow_catalog.h"
#include "api/router.h"
#include "http/http_types.h"
#include "vigil/engine.h"
#include "vigil/loader.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

struct ApiContext {
  Engine* engine = nullptr;
  WorkflowCatalog* catalog = nullptr;  // what is published; publishing goes through it
  // What the latest load of the workflow folders made of each file (null: no folders, as
  // in tests that drive the API alone; nothing is then listed as refused).
  const FolderLoads* folderLoads = nullptr;
  Store* store = nullptr;
  UserStore* users = nullptr;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<spdlog::logger> log;
  int requestsPerSecondPerToken = 50;
  // Webhook path -> shared secret: a delivery signed with X-Vigil-Signature:
  // sha256=HEX(HMAC-SHA256(secret, TIMESTAMP "\n" IDEMPOTENCY-KEY "\n" BODY)), with
  // X-Vigil-Timestamp: TIMESTAMP (Unix seconds), needs no token (docs/API.md).
  std::map<std::string, std::string> webhookSecrets;
  // How far a signed delivery's X-Vigil-Timestamp may be from ctx.clock, either way.
  std::chrono::seconds webhookWindow{std::chrono::minutes(5)};
  std::chrono::milliseconds claimDuration{std::chrono::minutes(15)};  // how long an approval claim holds
  std::chrono::seconds quickDecision{10};  // the approvals report's "quick" decision: within this of opening
  const ConnectorRegistry* connectors = nullptr;  // for GET /connectors
  class AuditService* audit = nullptr;  // access, disclosure and admin records; export; verify
  std::string dataDir;                  // for live verification (read-only)
  // Open approval tasks nobody can act on (approvals/approval_watch.h), for /metrics.
  std::function<long long()> unactionable;
  class ChangeHub* changes = nullptr;  // live streams and waiting starts (null: neither is offered)
  SessionPolicy sessions;  // browser sessions' idle and absolute limits
  bool tls = false;        // served over HTTPS: session cookies are Secure and __Host-
  std::string node = "local";  // this node's name among those sharing the store
  std::chrono::milliseconds leaseTtl{15000};  // what GET /api/v1/nodes calls live
};

// The API and the UI's files: the resources' route lists in one Router behind the
// middleware (api/middleware.h). Thread-safe: requests are handled concurrently.
class Api {
 public:
  explicit Api(ApiContext ctx);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  HttpResponse handle(HttpRequest& req);
  // Every route, each resource's in turn: what docs/openapi.yaml documents.
  const std::vector<Route>& routes() const { return router_.routes(); }

 private:
  ApiContext ctx_;
  struct Resources;  // the resource objects the routes call (api/resources.h)
  std::unique_ptr<Resources> resources_;
  Router router_;
};

// Parses a JSON request body under limits (depth 64, valid UTF-8); on failure returns the
// 400 response to send.
std::optional<HttpResponse> parseJsonBody(const std::string& body, nlohmann::json* out);

}  // namespace vigil::daemon

// The HTTP API under /api/v1: routing, authentication, authorisation and the handlers.
// Every route is declared once in routes() with the permission it needs; docs/openapi.yaml
// describes the same routes. Thread-safe: handlers run concurrently.
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
#include "catalog/workflow_catalog.h"
#include "http/http_types.h"
#include "vigil/engine.h"
#include "vigil/loader.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

struct ApiContext {
  Engine* engine = nullptr;
  WorkflowCatalog* catalog = nullptr;  // what is published; publishing goes through it
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
};

class Api {
 public:
  explicit Api(ApiContext ctx);

  HttpResponse handle(HttpRequest& req);

  struct Route {
    std::string method;
    std::string pattern;                 // "/api/v1/runs/{id}"
    std::optional<Permission> permission;  // nullopt: any authenticated caller
    bool isPublic = false;               // no token needed (only /healthz)
    HttpResponse (Api::*handler)(HttpRequest&, const Principal&);
  };
  static const std::vector<Route>& routes();

 private:
  HttpResponse health(HttpRequest&, const Principal&);
  HttpResponse ready(HttpRequest&, const Principal&);
  HttpResponse listWorkflows(HttpRequest&, const Principal&);
  HttpResponse showWorkflow(HttpRequest&, const Principal&);
  HttpResponse publishWorkflow(HttpRequest&, const Principal&);
  HttpResponse validateWorkflow(HttpRequest&, const Principal&);
  // Loads a {source, file} body and checks it as publication would; an answer to send on
  // failure. *warnings gets what does not stop publication.
  std::optional<HttpResponse> checkSource(HttpRequest& req, std::string* source, LoadResult* result,
                                          std::vector<Diagnostic>* warnings);
  HttpResponse startRun(HttpRequest&, const Principal&);
  HttpResponse listRuns(HttpRequest&, const Principal&);
  HttpResponse showRun(HttpRequest&, const Principal&);
  HttpResponse cancelRun(HttpRequest&, const Principal&);
  HttpResponse decideGrant(HttpRequest&, const Principal&);
  HttpResponse listGrants(HttpRequest&, const Principal&);
  HttpResponse decideCancellation(HttpRequest&, const Principal&);
  HttpResponse metrics(HttpRequest&, const Principal&);
  HttpResponse webhook(HttpRequest&, const Principal&);
  // Starts `workflow` once per (caller, Idempotency-Key): the run id is derived from the
  // two, and a repeat is compared with the run it names (same workflow and inputs: 200
  // duplicate; otherwise 422 idempotency_key_reused, nothing started). `via` names the
  // endpoint in the log.
  HttpResponse startOnce(const std::string& workflow, const nlohmann::json& inputs, const Principal& who,
                         const std::string& key, const std::string& via);
  // The answer to a key `who` already used: `first` is the run it started.
  HttpResponse repeatedKey(const RunState& first, const std::string& workflow, const nlohmann::json& inputs,
                           const Principal& who, const std::string& via);
  HttpResponse listUsers(HttpRequest&, const Principal&);
  HttpResponse addUser(HttpRequest&, const Principal&);
  HttpResponse revokeToken(HttpRequest&, const Principal&);
  HttpResponse approvalInbox(HttpRequest&, const Principal&);
  HttpResponse showApproval(HttpRequest&, const Principal&);
  HttpResponse claimApproval(HttpRequest&, const Principal&);
  HttpResponse decideApproval(HttpRequest&, const Principal&);
  HttpResponse reassignApproval(HttpRequest&, const Principal&);
  HttpResponse approvalReport(HttpRequest&, const Principal&);
  HttpResponse lateDecisions(HttpRequest&, const Principal&);
  HttpResponse listConnectors(HttpRequest&, const Principal&);
  HttpResponse auditVerify(HttpRequest&, const Principal&);
  HttpResponse auditExport(HttpRequest&, const Principal&);
  HttpResponse auditPublicKey(HttpRequest&, const Principal&);
  HttpResponse auditRotateKey(HttpRequest&, const Principal&);

  // One approval task as the caller is shown it.
  struct TaskView {
    std::string runId;
    std::string step;
    nlohmann::json shown;   // what the caller sees, masked for their roles
    std::string digest;     // SHA-256 of `shown`
    nlohmann::json state;   // the step's approval state
    StepStatus stepStatus = StepStatus::kPending;
  };
  std::optional<HttpResponse> loadTask(HttpRequest& req, TaskView* out, const Principal& who);
  // The definition a run is pinned to (from memory, or the store for older versions).
  std::shared_ptr<const Workflow> workflowOf(const RunState& run);
  // Records that `who` touched run data (consultation, disclosure, ...) and why.
  // False when the record could not be written: the caller must then not serve the data.
  bool recordAccess(const Principal& who, const std::string& kind, const std::string& runId, const std::string& step,
                    const std::string& purpose, nlohmann::json what = nullptr, const std::string& recipient = "");
  void recordAdmin(const Principal& who, const std::string& purpose, nlohmann::json what);

  ApiContext ctx_;

  // Token buckets by token id: a runaway script cannot starve everyone else.
  bool admit(const std::string& tokenId);
  // A delivery signed for its path (ApiContext::webhookSecrets) inside the time window:
  // fills *out and returns nullopt; otherwise the 401 to send (which header is wrong, never why
  // a secret did not match).
  std::optional<HttpResponse> webhookSigner(const HttpRequest& req, Principal* out) const;
  std::mutex rateMu_;
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  std::map<std::string, Bucket> buckets_;
};

// Parses a JSON request body under limits (depth 64, valid UTF-8); on failure returns the
// 400 response to send.
std::optional<HttpResponse> parseJsonBody(const std::string& body, nlohmann::json* out);

}  // namespace vigil::daemon

// The composition of the API: each resource's routes in one router, behind the middleware.
#include "api/api.h"

#include "api/middleware.h"
#include "api/resources.h"
#include "audit/audit_service.h"
#include "vigil/loader.h"

namespace vigil::daemon {

struct Api::Resources {
  explicit Resources(ApiContext& ctx)
      : ops(ctx), workflows(ctx), runs(ctx), approvals(ctx), events(ctx), audit(ctx), users(ctx), sessions(ctx), ui(ctx) {}
  OpsResource ops;
  WorkflowResource workflows;
  RunResource runs;
  ApprovalResource approvals;
  EventResource events;
  AuditResource audit;
  UserResource users;
  SessionResource sessions;
  UiResource ui;
  std::vector<Resource*> all() { return {&ops, &workflows, &runs, &approvals, &events, &audit, &users, &sessions, &ui}; }
};

Api::Api(ApiContext ctx) : ctx_(std::move(ctx)), resources_(std::make_unique<Resources>(ctx_)) {
  for (Resource* r : resources_->all()) router_.add(r->routes());
  router_.use(authenticate(ctx_));
  router_.use(csrf());
  router_.use(rateLimit(ctx_));
  router_.use(authorize(ctx_));
  router_.use(auditReads(ctx_));
  router_.finishWith(securityHeaders);
}

Api::~Api() = default;

HttpResponse Api::handle(HttpRequest& req) { return router_.handle(req); }

std::shared_ptr<const Workflow> Resource::workflowOf(const RunState& run) {
  if (auto wf = ctx_.catalog->find(run.workflow, run.version); wf && wf->hash == run.workflowHash) return wf;
  auto source = ctx_.store->workflows().source(run.workflowHash);
  if (!source) return nullptr;
  auto loaded = loadWorkflow(*source, run.workflow + ".yaml");
  return loaded.ok() ? loaded.workflow : nullptr;
}

void Resource::recordAdmin(const Principal& who, const std::string& purpose, nlohmann::json what) {
  if (ctx_.audit == nullptr) return;
  AuditEntry e;
  e.kind = "admin";
  e.actor = who.user;
  e.system = "api";
  e.purpose = purpose;
  e.payload = std::move(what);
  (void)ctx_.audit->record(std::move(e));
}

}  // namespace vigil::daemon

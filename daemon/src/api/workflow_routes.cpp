// Workflows over the API: the catalogue (with the folder files whose latest load was
// refused), one workflow with its versions and definition, validation and publication.
#include "api/resources.h"
#include "vigil/loader.h"

namespace vigil::daemon {

namespace {

nlohmann::json diagnosticsJson(const std::vector<Diagnostic>& diags) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : diags) {
    list.push_back({{"line", d.line}, {"column", d.column}, {"category", categoryName(d.category)},
                    {"severity", severityName(d.severity)}, {"message", d.message}});
  }
  return list;
}

HttpResponse invalidWorkflow(const std::vector<Diagnostic>& diags) {
  return HttpResponse::json(422, {{"error", {{"code", "invalid_workflow"}, {"message", "the workflow is not valid"}}},
                                  {"diagnostics", diagnosticsJson(diags)}});
}

// A file the latest folder load refused, and the active workflow it stands for: the one it
// names, or else the one last published from that file (an edit may have broken the name).
struct Refusal {
  FolderLoads::File file;
  std::shared_ptr<const Workflow> active;  // null: no version of it is active
};

std::vector<Refusal> refusals(const FolderLoads* loads, const std::vector<std::shared_ptr<const Workflow>>& active) {
  std::vector<Refusal> out;
  if (loads == nullptr) return out;
  for (auto& f : loads->refused()) {
    std::shared_ptr<const Workflow> standsFor;
    for (const auto& wf : active) {
      if (!f.workflow.empty() && wf->name == f.workflow) standsFor = wf;
    }
    for (const auto& wf : active) {
      if (standsFor == nullptr && wf->sourceFile == f.path) standsFor = wf;
    }
    out.push_back({std::move(f), std::move(standsFor)});
  }
  return out;
}

// A summary's `validation`: "valid", or "refused" with `problem_count` when the latest
// load of a file standing for `name` was refused (the active version is still the earlier one).
void addValidation(nlohmann::json& summary, const std::string& name, const std::vector<Refusal>& refused) {
  size_t problems = 0;
  bool isRefused = false;
  for (const auto& r : refused) {
    if (r.active && r.active->name == name) {
      isRefused = true;
      problems += r.file.problems.size();
    }
  }
  summary["validation"] = isRefused ? "refused" : "valid";
  if (isRefused) summary["problem_count"] = problems;
}

nlohmann::json loadProblemJson(const Refusal& r) {
  const FolderLoads::File& f = r.file;
  nlohmann::json diags = diagnosticsJson(f.problems);
  for (size_t i = 0; i < diags.size(); ++i) diags[i]["file"] = f.problems[i].file;
  nlohmann::json active;  // null
  if (r.active) active = {{"workflow", r.active->name}, {"version", r.active->version}};
  return {{"file", f.path},
          {"workflow", f.workflow.empty() ? nlohmann::json() : nlohmann::json(f.workflow)},
          {"version", f.version > 0 ? nlohmann::json(f.version) : nlohmann::json()},
          {"loaded_at", formatTime(f.loadedAt)},
          {"active", active},
          {"diagnostics", diags}};
}

}  // namespace

std::vector<Route> WorkflowResource::routes() {
  using P = Permission;
  using R = WorkflowResource;
  return {
      {.method = "GET", .pattern = "/api/v1/workflows", .permission = P::kReadWorkflows, .handler = bind(&R::list)},
      {.method = "POST", .pattern = "/api/v1/workflows", .permission = P::kPublishWorkflows, .handler = bind(&R::publish)},
      {.method = "POST", .pattern = "/api/v1/workflows/validate", .permission = P::kPublishWorkflows, .handler = bind(&R::validate)},
      {.method = "GET", .pattern = "/api/v1/workflows/{name}", .permission = P::kReadWorkflows, .handler = bind(&R::show)},
  };
}

HttpResponse WorkflowResource::list(HttpRequest&, Call&) {
  auto active = ctx_.catalog->active();
  auto refused = refusals(ctx_.folderLoads, active);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& wf : active) {
    items.push_back(workflowSummaryJson(*wf));
    addValidation(items.back(), wf->name, refused);
    // What starts it, in words, and how many versions the catalogue keeps.
    nlohmann::json triggers = nlohmann::json::array();
    for (const auto& t : wf->triggers) {
      switch (t.kind) {
        case Trigger::Kind::kCron: triggers.push_back("cron " + t.spec + (t.zone ? " (" + t.zone->name() + ")" : "")); break;
        case Trigger::Kind::kWebhook: triggers.push_back("webhook " + t.spec); break;
        case Trigger::Kind::kWatch: triggers.push_back("files in " + t.spec + (t.pattern.empty() ? "" : " matching " + t.pattern)); break;
      }
    }
    items.back()["triggers"] = std::move(triggers);
    items.back()["versions"] = ctx_.catalog->versions(wf->name).size();
  }
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& r : refused) problems.push_back(loadProblemJson(r));
  return HttpResponse::json(200, {{"items", items}, {"load_problems", problems}});
}

HttpResponse WorkflowResource::show(HttpRequest& req, Call&) {
  auto all = ctx_.catalog->versions(req.params["name"]);
  if (all.empty()) return HttpResponse::error(404, "not_found", "no workflow with that name");
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& wf : all) versions.push_back(workflowSummaryJson(*wf));
  // ?version=N shows that version (a run's page draws the version the run is pinned to).
  const Workflow* shown = all.back().get();
  if (auto it = req.query.find("version"); it != req.query.end()) {
    shown = nullptr;
    for (const auto& wf : all) {
      if (std::to_string(wf->version) == it->second) shown = wf.get();
    }
    if (shown == nullptr) return HttpResponse::error(404, "not_found", "no version " + it->second + " of that workflow", "version");
  }
  const Workflow& latest = *shown;
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : latest.steps) steps.push_back({{"id", s.id}, {"kind", stepKindName(s.kind())}, {"purpose", s.purpose}});
  nlohmann::json j = workflowSummaryJson(latest);
  addValidation(j, latest.name, refusals(ctx_.folderLoads, ctx_.catalog->active()));
  j["versions"] = versions;
  j["steps"] = steps;
  j["definition"] = nlohmann::json::parse(latest.canonicalJson);
  return HttpResponse::json(200, j);
}

std::optional<HttpResponse> WorkflowResource::checkSource(HttpRequest& req, std::string* source, LoadResult* result,
                                             std::vector<Diagnostic>* warnings) {
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  if (!body.is_object() || !body.contains("source") || !body["source"].is_string()) {
    return HttpResponse::error(400, "invalid_request", "body must be {\"source\": WORKFLOW_YAML, \"file\": NAME}", "source");
  }
  if (body.contains("file") && !body["file"].is_string()) {
    return HttpResponse::error(400, "invalid_request", "file must be a file name", "file");
  }
  *source = body["source"].get<std::string>();
  const std::string file = body.value("file", std::string("workflow.yaml"));
  LoadResult r = loadWorkflow(*source, file);
  std::vector<Diagnostic> diags = r.diagnostics;
  if (r.ok()) diags = ctx_.catalog->check(*r.workflow);
  if (!r.ok() || hasErrors(diags)) return invalidWorkflow(diags);
  *warnings = std::move(diags);
  *result = std::move(r);
  return std::nullopt;
}

HttpResponse WorkflowResource::validate(HttpRequest& req, Call&) {
  std::string source;
  LoadResult r;
  std::vector<Diagnostic> warnings;
  if (auto answer = checkSource(req, &source, &r, &warnings)) return *answer;
  return HttpResponse::json(200, {{"valid", true}, {"name", r.workflow->name}, {"version", r.workflow->version},
                                  {"sha256", r.workflow->hash}, {"diagnostics", diagnosticsJson(warnings)}});
}

HttpResponse WorkflowResource::publish(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  std::string source;
  LoadResult r;
  std::vector<Diagnostic> warnings;
  if (auto answer = checkSource(req, &source, &r, &warnings)) return *answer;
  const Workflow& wf = *r.workflow;
  using K = WorkflowCatalog::Outcome::Kind;
  auto outcome = ctx_.catalog->publish({{r.workflow, source}}, WorkflowCatalog::Origin::kApi).front();
  nlohmann::json answer = {{"name", wf.name}, {"version", wf.version}, {"sha256", wf.hash},
                           {"published", outcome.kind == K::kPublished}, {"diagnostics", diagnosticsJson(outcome.diagnostics)}};
  switch (outcome.kind) {
    case K::kUnchanged: return HttpResponse::json(200, answer);
    case K::kInvalid: return invalidWorkflow(outcome.diagnostics);  // something changed since the check
    case K::kVersionExists: return HttpResponse::error(409, "version_exists", outcome.message, "version");
    case K::kVersionTooOld: return HttpResponse::error(409, "version_too_old", outcome.message, "version");
    case K::kUnavailable: return HttpResponse::error(503, "unavailable", "the workflow could not be stored; nothing was published");
    case K::kPublished: break;
  }
  ctx_.log->info("user {} published workflow {} version {} ({})", who.user, wf.name, wf.version, wf.hash.substr(0, 12));
  recordAdmin(who, "publish workflow", {{"event", "workflow_published"}, {"name", wf.name}, {"version", wf.version}, {"sha256", wf.hash}});
  return HttpResponse::json(201, answer);
}

}  // namespace vigil::daemon

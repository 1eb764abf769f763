// GET /metrics: Prometheus text exposition of the engine's counters and the store.
#include <functional>
#include <sstream>

#include "api/resources.h"
#include "audit/audit_service.h"

namespace vigil::daemon {
namespace {

// Label values come from workflow and connector names and error codes, never from data;
// escape them anyway so the exposition format cannot be broken.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void histogram(std::ostringstream& o, const std::string& name, const std::string& labels, const Histogram& h) {
  uint64_t cumulative = 0;
  const auto& bounds = Histogram::bounds();
  std::string sep = labels.empty() ? "" : labels + ",";
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < h.counts.size() ? h.counts[i] : 0;
    std::ostringstream le;
    if (i < bounds.size()) {
      le << bounds[i];
    } else {
      le << "+Inf";
    }
    o << name << "_bucket{" << sep << "le=\"" << le.str() << "\"} " << cumulative << "\n";
  }
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  o << name << "_sum" << braces << " " << h.sum << "\n" << name << "_count" << braces << " " << h.count << "\n";
}

}  // namespace

HttpResponse OpsResource::metrics(HttpRequest&, Call&) {
  std::ostringstream o;
  auto counts = ctx_.store->runs().countByStatus();
  if (!counts) return HttpResponse::error(503, "store_unavailable", "the store cannot be read");
  o << "# HELP vigil_runs Runs by status.\n# TYPE vigil_runs gauge\n";
  for (auto st : {RunStatus::kRunning, RunStatus::kWaiting, RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kCancelled}) {
    auto it = counts->find(st);
    o << "vigil_runs{status=\"" << runStatusName(st) << "\"} " << (it == counts->end() ? 0 : it->second) << "\n";
  }
  EngineMetrics m = ctx_.engine->metrics();
  const EngineHealth health = ctx_.engine->health();
  o << "# HELP vigil_connector_call_seconds Time of connector calls, by connector.\n"
       "# TYPE vigil_connector_call_seconds histogram\n";
  for (const auto& [connector, h] : m.callSeconds) {
    histogram(o, "vigil_connector_call_seconds", "connector=\"" + label(connector) + "\"", h);
  }
  o << "# HELP vigil_connector_errors_total Failed connector calls, by connector and error code.\n"
       "# TYPE vigil_connector_errors_total counter\n";
  for (const auto& [key, n] : m.callErrors) {
    o << "vigil_connector_errors_total{connector=\"" << label(key.first) << "\",code=\"" << label(key.second) << "\"} " << n << "\n";
  }
  o << "# HELP vigil_store_commit_seconds Time of each group commit.\n# TYPE vigil_store_commit_seconds histogram\n";
  histogram(o, "vigil_store_commit_seconds", "", m.commitSeconds);
  o << "# HELP vigil_store_committed_inputs_total Inputs applied by group commits.\n"
       "# TYPE vigil_store_committed_inputs_total counter\n"
       "vigil_store_committed_inputs_total " << m.committedInputs << "\n"
       "# HELP vigil_store_failed_commits_total Group commits the store refused (disk full, I/O error, locked).\n"
       "# TYPE vigil_store_failed_commits_total counter\n"
       "vigil_store_failed_commits_total " << m.failedCommits << "\n"
       "# HELP vigil_store_conflicted_inputs_total Inputs applied again because another writer had moved their run on.\n"
       "# TYPE vigil_store_conflicted_inputs_total counter\n"
       "vigil_store_conflicted_inputs_total " << m.conflictedInputs << "\n"
       "# HELP vigil_store_fenced_inputs_total Call results and timers dropped because their partition's lease had moved to another node.\n"
       "# TYPE vigil_store_fenced_inputs_total counter\n"
       "vigil_store_fenced_inputs_total " << m.fencedInputs << "\n"
       "# HELP vigil_leases_taken_total Partitions this node took (at start, given back, or from a node that stopped renewing).\n"
       "# TYPE vigil_leases_taken_total counter\n"
       "vigil_leases_taken_total " << m.leasesTaken << "\n"
       "# HELP vigil_leases_lost_total Partitions another node took from this one after it did not renew in time.\n"
       "# TYPE vigil_leases_lost_total counter\n"
       "vigil_leases_lost_total " << m.leasesLost << "\n"
       "# HELP vigil_partitions_held Partitions this node holds a lease on (whose calls and timers it makes).\n"
       "# TYPE vigil_partitions_held gauge\n"
       "vigil_partitions_held " << health.partitionsHeld << "\n"
       "# HELP vigil_lease_renewal_age_seconds Time since this node last renewed its partition leases.\n"
       "# TYPE vigil_lease_renewal_age_seconds gauge\n"
       "vigil_lease_renewal_age_seconds " << health.sinceRenewal.count() / 1000.0 << "\n"
       "# HELP vigil_engine_deferred_inputs_total Inputs a batch left for the next one when it reached its time slice.\n"
       "# TYPE vigil_engine_deferred_inputs_total counter\n"
       "vigil_engine_deferred_inputs_total " << m.deferredInputs << "\n";
  auto approvals = ctx_.store->approvals().stats(ctx_.clock->now());
  if (!approvals) return HttpResponse::error(503, "store_unavailable", "the store cannot be read");
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::function<double(const ApprovalStats&)> value;
  };
  const std::vector<Family> families = {
      {"vigil_approvals_waiting", "gauge", "Approval tasks open, by workflow and step.",
       [](const ApprovalStats& s) { return double(s.open); }},
      {"vigil_approvals_overdue", "gauge", "Open approval tasks past their deadline.",
       [](const ApprovalStats& s) { return double(s.overdue); }},
      {"vigil_approvals_decided_total", "counter", "Approval tasks decided.",
       [](const ApprovalStats& s) { return double(s.decided); }},
      {"vigil_approvals_overridden_total", "counter",
       "Decisions that overrode the workflow's recommendation (watch for rubber-stamping at 0 and for rules people keep overriding).",
       [](const ApprovalStats& s) { return double(s.overridden); }},
      {"vigil_approval_mean_seconds_to_decision", "gauge", "Mean time from request to decision.",
       [](const ApprovalStats& s) { return s.meanSecondsToDecision; }},
  };
  for (const auto& f : families) {
    o << "# HELP " << f.name << " " << f.help << "\n# TYPE " << f.name << " " << f.type << "\n";
    for (const auto& s : *approvals) {
      o << f.name << "{workflow=\"" << label(s.workflow) << "\",step=\"" << label(s.step) << "\"} " << f.value(s) << "\n";
    }
  }
  if (ctx_.unactionable) {
    o << "# HELP vigil_approvals_unactionable Open approval tasks nobody can act on (assignees missing, disabled or"
         " excluded), even after escalation to the workflow's owner role.\n# TYPE vigil_approvals_unactionable gauge\n"
      << "vigil_approvals_unactionable " << ctx_.unactionable() << "\n";
  }
  if (ctx_.audit != nullptr) {
    o << "# HELP vigil_audit_checkpoint_log_failures_total Checkpoints that could not be appended to audit.checkpoint_log.\n"
         "# TYPE vigil_audit_checkpoint_log_failures_total counter\n"
      << "vigil_audit_checkpoint_log_failures_total " << ctx_.audit->checkpointLogFailures() << "\n";
    if (const WitnessPusher* w = ctx_.audit->witnesses()) {
      const auto states = w->states();
      o << "# HELP vigil_audit_witness_cosigned_records The largest checkpoint (in records) each witness has co-signed.\n"
           "# TYPE vigil_audit_witness_cosigned_records gauge\n";
      for (const auto& st : states) o << "vigil_audit_witness_cosigned_records{witness=\"" << label(st.url) << "\"} " << st.cosignedSize << "\n";
      o << "# HELP vigil_audit_witness_up Whether each witness answered the last push (a refusal still counts as an answer).\n"
           "# TYPE vigil_audit_witness_up gauge\n";
      for (const auto& st : states) o << "vigil_audit_witness_up{witness=\"" << label(st.url) << "\"} " << (st.reachable ? 1 : 0) << "\n";
    }
  }
  HttpResponse r;
  r.contentType = "text/plain; version=0.0.4";
  r.body = o.str();
  return r;
}

}  // namespace vigil::daemon

// GET /metrics: Prometheus text exposition of the engine's counters and the store.
#include <sstream>

#include "api/api.h"

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

HttpResponse Api::metrics(HttpRequest&, const Principal&) {
  std::ostringstream o;
  auto counts = ctx_.store->countRunsByStatus();
  if (!counts) return HttpResponse::error(503, "store_unavailable", "the store cannot be read");
  o << "# HELP vigil_runs Runs by status.\n# TYPE vigil_runs gauge\n";
  for (auto st : {RunStatus::kRunning, RunStatus::kWaiting, RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kCancelled}) {
    auto it = counts->find(st);
    o << "vigil_runs{status=\"" << runStatusName(st) << "\"} " << (it == counts->end() ? 0 : it->second) << "\n";
  }
  EngineMetrics m = ctx_.engine->metrics();
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
       "vigil_store_committed_inputs_total " << m.committedInputs << "\n";
  HttpResponse r;
  r.contentType = "text/plain; version=0.0.4";
  r.body = o.str();
  return r;
}

}  // namespace vigil::daemon

// What the audit trail records of each committed run transition: one "run" record holding
// the events (a "collection" when the run starts: its inputs enter vigil), and one record
// per connector call whose result came back (a consultation, disclosure or alteration, as
// the action declares), naming the system and the step's stated purpose. Personal data stays in payloads, which retention can erase.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "engine_impl.h"
#include "vigil/merkle.h"

namespace vigil {
namespace {

// Resolves "inputs.referral.child" in the run's inputs.
const Json* inputAt(const Json& inputs, const std::string& path) {
  if (path.rfind("inputs.", 0) != 0) return nullptr;
  const Json* v = &inputs;
  size_t start = 7;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!v->is_object() || !v->contains(key)) return nullptr;
    v = &(*v)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return v;
}

}  // namespace

// A keyed hash of the run's first sensitive input: the same person gets the same reference
// across runs, and the reference says nothing about them without the key.
std::string subjectReference(const Workflow& wf, const Json& inputs, const std::string& key) {
  if (key.empty() || wf.sensitive.empty()) return "";
  const Json* v = inputAt(inputs, wf.sensitive.front());
  if (v == nullptr || v->is_null()) return "";
  std::string material = v->dump(-1, ' ', false, Json::error_handler_t::replace);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(material.data()),
       material.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out = "ps:";
  for (unsigned i = 0; i < 8; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

void appendAuditEntries(const RunWrite& w, const Workflow& wf, const std::string& subjectKey,
                        const ConnectorRegistry* connectors, TimePoint now, std::vector<AuditEntry>* out) {
  if (w.events.empty()) return;
  const RunState& st = *w.state;
  const std::string system = "system:" + wf.name + "@" + std::to_string(wf.version);
  const std::string subject = subjectReference(wf, st.inputs, subjectKey);

  AuditEntry run;
  run.time = now;
  run.kind = "run";
  run.actor = system;
  run.runId = st.id;
  run.subject = subject;
  run.system = "vigil";
  Json events = Json::array();
  std::string onlyStep = w.events.front().step;
  for (const auto& e : w.events) {
    if (e.step != onlyStep) onlyStep.clear();
    switch (e.type) {
      case EventType::kRunStarted:
        run.kind = "collection";
        run.actor = st.startedBy;
        run.purpose = wf.description.empty() ? "run of workflow " + wf.name : wf.description;
        break;
      case EventType::kApprovalDecided:
      case EventType::kApprovalClaimed:
        run.actor = e.data.value(e.type == EventType::kApprovalDecided ? "decided_by" : "by", run.actor);
        run.purpose = "approval decision";
        break;
      case EventType::kApprovalReassigned:
      case EventType::kRunCancelled:
      case EventType::kCancellationRequested:
      case EventType::kCancellationDeclined:
        run.actor = e.data.value("by", run.actor);
        if (e.type != EventType::kApprovalReassigned) run.purpose = "cancellation of the run";
        break;
      case EventType::kApprovalReminded: {
        if (!e.data.value("ok", false)) break;
        AuditEntry c;
        c.time = now;
        const std::string connector = e.data.value("connector", "");
        c.kind = "disclosure";
        c.actor = system;
        c.runId = st.id;
        c.step = e.step;
        c.subject = subject;
        c.system = connector;
        c.recipient = e.data.value("recipient", connector);
        c.purpose = "reminder: approval '" + e.step + "' escalated";
        c.payload = {{"escalation", e.attempt}, {"event", e.seq}};
        out->push_back(std::move(c));
        break;
      }
      case EventType::kStepCompleted: {
        auto idx = wf.findStep(e.step.substr(0, e.step.find('[')));
        if (!idx) break;
        const Step& s = wf.steps[*idx];
        if (const auto* u = std::get_if<UsesStep>(&s.body)) {
          AuditEntry c;
          c.time = now;
          // The action's declared access: reading another system, sending data out to one, or changing it.
          const std::string access = connectors != nullptr ? connectors->access(u->connector, u->action) : "";
          c.kind = isAuditKind(access) ? access : "consultation";
          // The recipient the connector reported (addresses, or system and endpoint).
          if (c.kind == "disclosure") c.recipient = e.data.value("recipient", u->connector);
          c.actor = system + " for " + st.startedBy;
          c.runId = st.id;
          c.step = e.step;
          c.subject = subject;
          c.system = u->connector;
          c.purpose = s.purpose;
          c.payload = {{"action", u->connector + "." + u->action}, {"attempt", e.attempt}, {"event", e.seq}};
          out->push_back(std::move(c));
        }
        break;
      }
      default:
        break;
    }
    events.push_back(e.toJson());
  }
  run.step = onlyStep;
  // The one stored copy of these events, and the digest of the snapshot they fold to.
  run.payload = {{"run", st.id}, {"events", std::move(events)}, {"snapshot_sha256", merkle::toHex(merkle::sha256(w.snapshotText))}};
  out->push_back(std::move(run));
}

}  // namespace vigil

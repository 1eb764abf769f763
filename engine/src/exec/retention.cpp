#include "vigil/retention.h"

#include <limits>

#include "vigil/chained_events.h"

namespace vigil {

Json minimalSnapshot(const Json& snapshot) {
  Json minimal = snapshot.is_object() ? snapshot : Json::object();
  minimal["inputs"] = Json::object();
  minimal["outputs"] = nullptr;
  if (minimal.contains("steps") && minimal["steps"].is_object()) {
    for (auto& st : minimal["steps"]) {
      for (const char* k : {"output", "approval", "items"}) st.erase(k);
    }
  }
  minimal["erased"] = true;
  return minimal;
}

namespace {

// One member of the family: its minimal snapshot, how many payloads it holds, and the record.
Result<ErasedRun> prepareErasure(Store& store, const std::string& runId, TimePoint now, const std::string& why) {
  auto state = store.runs().load(runId);
  if (!state) return state.status();
  if (!state->has_value()) return Status::notFound("run " + runId + " is gone");
  auto events = store.runs().events(runId);
  if (!events) return events.status();
  auto records = store.audit().records(runId, TimePoint::min(), std::numeric_limits<uint64_t>::max());
  if (!records) return records.status();
  ErasedRun e;
  e.runId = runId;
  for (const auto& r : *records) {
    // The run's own records (a family's read also lists its sub-workflow runs').
    if (r.entry.runId == runId && r.payloadText && r.entry.kind != "erasure") ++e.auditPayloads;
  }
  e.minimalSnapshot = minimalSnapshot((*state)->toJson()).dump();
  e.record.time = now;
  e.record.kind = "erasure";
  e.record.actor = "system:vigil";
  e.record.runId = runId;
  e.record.system = "vigil";
  e.record.purpose = why;
  // What stays of the history: which events happened when, not what they held.
  e.record.payload = {{"audit_payloads", e.auditPayloads},
                      {"events", eventSkeleton(*events)},
                      {"snapshot_sha256", merkle::toHex(merkle::sha256(e.minimalSnapshot))}};
  return e;
}

}  // namespace

Result<RetentionPass> eraseExpiredRuns(Store& store, const std::string& workflow, TimePoint endedBefore, TimePoint now,
                                       const std::string& why, size_t max) {
  auto due = store.runs().endedBefore(workflow, endedBefore, max);
  if (!due) return due.status();
  RetentionPass pass;
  pass.candidates = due->size();
  for (const auto& id : *due) {
    auto family = store.runs().family(id);
    if (!family) return family.status();
    // A payload is accepted as erased only where an erasure record of its own run covers it.
    Erasure erasure;
    Status prepared = Status::ok();
    for (const auto& member : *family) {
      auto e = prepareErasure(store, member, now, why);
      if (!e) {
        prepared = e.status();
        break;
      }
      erasure.runs.push_back(std::move(e).value());
    }
    if (prepared.code() == Status::Code::kInternal || prepared.code() == Status::Code::kNotFound) {
      pass.skipped.emplace_back(id, prepared.message());  // one damaged run does not stop the rest
      continue;
    }
    if (!prepared) return prepared;
    Status s = store.erase(erasure);
    if (s.code() == Status::Code::kFailedPrecondition) {
      pass.skipped.emplace_back(id, s.message());
      continue;
    }
    if (!s) return s;
    pass.erased.push_back(id);
  }
  return pass;
}

}  // namespace vigil

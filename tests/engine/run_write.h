// For the tests that commit to a store directly, without an engine (store_commit_test.cpp,
// lease_test.cpp).
#pragma once

#include <vector>

#include "vigil/approval.h"
#include "vigil/merkle.h"
#include "vigil/run.h"
#include "vigil/store/batch.h"

namespace vigil::testing {

// One run's transition as the committer writes it: the events in the run's chained record
// with the snapshot's digest, and the inbox rows the run now implies.
inline RunWrite transition(const RunState& st, std::vector<Event> events, bool created) {
  RunWrite w;
  w.state = &st;
  w.snapshotText = st.toJson().dump();
  w.created = created;
  Json chained = Json::array();
  for (const auto& e : events) chained.push_back(e.toJson());
  w.events = std::move(events);
  AuditEntry a;
  a.time = st.updatedAt;
  a.kind = created ? "collection" : "run";
  a.actor = created ? st.startedBy : "system:review@1";
  a.runId = st.id;
  a.system = "vigil";
  a.purpose = "test";
  a.payload = {{"run", st.id}, {"events", chained}, {"snapshot_sha256", merkle::toHex(merkle::sha256(w.snapshotText))}};
  w.audit.push_back(std::move(a));
  w.approvals = approvalRowsOf(st);
  return w;
}

}  // namespace vigil::testing

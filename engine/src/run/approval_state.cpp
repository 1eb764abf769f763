// The fold of an approval step's events, and its snapshot form.
#include "vigil/approval_state.h"

#include <algorithm>

namespace vigil {
namespace {

std::string text(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> texts(const Json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Json array(const std::vector<std::string>& v) {
  Json a = Json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

bool has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

}  // namespace

ApprovalRequest ApprovalRequest::of(const Json& data) {
  ApprovalRequest r;
  r.recorded = data;
  if (!data.is_object()) return r;
  r.options = texts(data, "options");
  r.distinctFrom = texts(data, "distinct_from");
  if (auto q = data.find("quorum"); q != data.end() && q->is_number_integer()) r.quorum = q->get<int>();
  if (auto d = data.find("due"); d != data.end() && d->is_string()) r.due = parseTime(d->get<std::string>());
  if (auto p = data.find("priority"); p != data.end() && p->is_number()) r.priority = p->get<double>();
  r.summary = text(data, "summary");
  r.recommendation = data.value("recommendation", Json());
  if (auto s = data.find("show"); s != data.end() && s->is_object()) r.show = *s;
  if (auto q = data.find("reason_required"); q != data.end() && q->is_boolean()) r.reasonRequired = q->get<bool>();
  if (auto m = data.find("reason_min_length"); m != data.end() && m->is_number_integer()) r.reasonMinLength = m->get<int>();
  return r;
}

ApprovalVoteRecord ApprovalVoteRecord::of(const Json& data) {
  ApprovalVoteRecord v;
  v.recorded = data;
  if (!data.is_object()) return v;
  v.decision = text(data, "decision");
  v.reason = text(data, "reason");
  v.decidedBy = text(data, "decided_by");
  if (auto a = data.find("agreed"); a != data.end() && a->is_boolean()) v.agreed = a->get<bool>();
  v.openedAt = parseTime(text(data, "opened_at"));
  if (auto s = data.find("seconds_to_decide"); s != data.end() && s->is_number()) v.secondsToDecide = s->get<double>();
  v.confirmed = text(data, "confirmed");
  return v;
}

bool ApprovalState::assignedTo(const std::string& user, const std::vector<std::string>& userRoles) const {
  if (has(users, user)) return true;
  return std::any_of(userRoles.begin(), userRoles.end(), [&](const std::string& r) { return has(roles, r); });
}

bool ApprovalState::votedBy(const std::string& user) const {
  return std::any_of(votes.begin(), votes.end(), [&](const ApprovalVoteRecord& v) { return v.decidedBy == user; });
}

void ApprovalState::onRequested(const Json& data) {
  *this = ApprovalState();
  request = ApprovalRequest::of(data);
  roles = texts(data, "roles");
  users = texts(data, "users");
}

// One vote; the approval is decided once `quorum` votes name the same option. A vote with
// no open request (histories from before quorums) decides at once, and so does a timeout's.
void ApprovalState::onVote(const Json& data) {
  if (!request) *this = ApprovalState();
  votes.push_back(ApprovalVoteRecord::of(data));
  const ApprovalVoteRecord& last = votes.back();
  std::vector<std::string> approvers;
  for (const auto& v : votes) {
    if (v.decision == last.decision) approvers.push_back(v.decidedBy);
  }
  int quorum = request ? request->quorum : 1;
  if (last.decidedBy == "system:timeout") quorum = 1;
  if (static_cast<int>(approvers.size()) >= quorum) {
    outcome = ApprovalOutcome{last.decision, last.reason, last.decidedBy, std::move(approvers)};
    claim.reset();
  }
}

void ApprovalState::onClaimed(const Json& data) {
  ApprovalClaim c;
  c.recorded = data;
  c.by = text(data, "by");
  c.until = parseTime(text(data, "until"));
  claim = std::move(c);
}

void ApprovalState::onReassigned(const Json& data) {
  roles = texts(data, "roles");
  users = texts(data, "users");
  claim.reset();
}

void ApprovalState::onEscalated(const Json& data) {
  for (const auto& r : texts(data, "to")) {
    if (!has(roles, r)) roles.push_back(r);
  }
  // Levels can fire out of order (one due at once, another at a deadline already past):
  // count them rather than take the last level's number.
  ++escalations;
}

Json ApprovalState::toJson() const {
  Json j = Json::object();
  Json v = Json::array();
  for (const auto& vote : votes) v.push_back(vote.recorded);
  j["votes"] = std::move(v);
  if (request) {
    j["request"] = request->recorded;
    j["assigned"] = {{"roles", array(roles)}, {"users", array(users)}};
    j["escalations"] = escalations;
  }
  if (claim) j["claim"] = claim->recorded;
  if (outcome) {
    j["decision"] = outcome->decision;
    j["reason"] = outcome->reason;
    j["decided_by"] = outcome->decidedBy;
    j["approvers"] = array(outcome->approvers);
  }
  return j;
}

ApprovalState ApprovalState::of(const Json& snapshot) {
  ApprovalState a;
  if (!snapshot.is_object()) return a;
  if (auto r = snapshot.find("request"); r != snapshot.end()) a.request = ApprovalRequest::of(*r);
  if (auto as = snapshot.find("assigned"); as != snapshot.end() && as->is_object()) {
    a.roles = texts(*as, "roles");
    a.users = texts(*as, "users");
  }
  if (auto c = snapshot.find("claim"); c != snapshot.end()) a.onClaimed(*c);
  if (auto vs = snapshot.find("votes"); vs != snapshot.end() && vs->is_array()) {
    for (const auto& v : *vs) a.votes.push_back(ApprovalVoteRecord::of(v));
  }
  if (auto e = snapshot.find("escalations"); e != snapshot.end() && e->is_number_integer()) a.escalations = e->get<int>();
  if (snapshot.contains("decision")) {
    a.outcome = ApprovalOutcome{text(snapshot, "decision"), text(snapshot, "reason"), text(snapshot, "decided_by"),
                                texts(snapshot, "approvers")};
  }
  return a;
}

}  // namespace vigil

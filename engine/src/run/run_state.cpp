// The fold of a run's events into its state, and the JSON forms of both.
#include "vigil/run.h"

#include <algorithm>
#include <array>

namespace vigil {
namespace {

constexpr std::array<const char*, 5> kRunStatus = {"running", "waiting", "completed", "failed", "cancelled"};
constexpr std::array<const char*, 6> kStepStatus = {"pending", "running", "waiting", "completed", "failed", "skipped"};
constexpr std::array<const char*, 21> kEventTypes = {
    "RunStarted",        "StepStarted",     "StepCompleted",  "StepFailed",    "StepSkipped",
    "RetryScheduled",    "WaitStarted",     "TimerFired",      "DecisionRecorded", "ApprovalRequested", "ApprovalDecided",
    "ChildRunStarted",   "RunCompleted",    "RunFailed",      "RunCancelled",  "ApprovalClaimed",
    "ApprovalReassigned", "ApprovalEscalated", "ApprovalReminded", "CancellationRequested", "CancellationDeclined"};

long long ms(TimePoint t) { return t.time_since_epoch().count(); }
TimePoint fromMs(long long v) { return TimePoint(std::chrono::milliseconds(v)); }

Json stepView(const StepState& s) {
  Json v = {{"status", stepStatusName(s.status)}, {"output", s.output}, {"error", s.error}, {"attempts", s.attempt}};
  v["started_at"] = s.startedAt == TimePoint{} ? Json() : Json(formatTime(s.startedAt));
  v["finished_at"] = s.finishedAt == TimePoint{} ? Json() : Json(formatTime(s.finishedAt));
  if (s.approval) {
    const auto& o = s.approval->outcome;
    v["decision"] = o ? Json(o->decision) : Json();
    v["reason"] = o ? Json(o->reason) : Json();
    v["decided_by"] = o ? Json(o->decidedBy) : Json();
    v["approvers"] = o ? Json(o->approvers) : Json();
  }
  return v;
}

}  // namespace

const char* runStatusName(RunStatus s) { return kRunStatus[static_cast<size_t>(s)]; }
std::optional<RunStatus> parseRunStatus(std::string_view s) {
  for (size_t i = 0; i < kRunStatus.size(); ++i) {
    if (s == kRunStatus[i]) return static_cast<RunStatus>(i);
  }
  return std::nullopt;
}
const char* stepStatusName(StepStatus s) { return kStepStatus[static_cast<size_t>(s)]; }
bool isTerminal(RunStatus s) { return s == RunStatus::kCompleted || s == RunStatus::kFailed || s == RunStatus::kCancelled; }
bool isTerminal(StepStatus s) { return s == StepStatus::kCompleted || s == StepStatus::kFailed || s == StepStatus::kSkipped; }

const char* eventTypeName(EventType t) { return kEventTypes[static_cast<size_t>(t)]; }
std::optional<EventType> parseEventType(std::string_view s) {
  for (size_t i = 0; i < kEventTypes.size(); ++i) {
    if (s == kEventTypes[i]) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

Json Event::toJson() const {
  Json j = {{"seq", seq}, {"type", eventTypeName(type)}, {"time", ms(time)}};
  if (!step.empty()) j["step"] = step;
  if (attempt != 0) j["attempt"] = attempt;
  if (!data.is_null()) j["data"] = data;
  return j;
}

Result<Event> Event::fromJson(const Json& j) {
  if (!j.is_object() || !j.contains("seq") || !j.contains("type") || !j.contains("time")) {
    return Status::invalidArgument("event record lacks seq, type or time");
  }
  Event e;
  try {
    e.seq = j.at("seq").get<uint64_t>();
    auto t = parseEventType(j.at("type").get<std::string>());
    if (!t) return Status::invalidArgument("unknown event type");
    e.type = *t;
    e.time = fromMs(j.at("time").get<long long>());
    if (j.contains("step")) e.step = j.at("step").get<std::string>();
    if (j.contains("attempt")) e.attempt = j.at("attempt").get<int>();
    if (j.contains("data")) e.data = j.at("data");
  } catch (const Json::exception&) {
    return Status::invalidArgument("event record has a field of the wrong type");
  }
  return e;
}

Result<RunState> RunState::fold(const std::string& runId, const std::vector<Event>& events) {
  RunState st;
  st.id = runId;
  for (const auto& e : events) {
    if (Status s = st.apply(e); !s) return s;
  }
  return st;
}

const StepState* RunState::step(const std::string& key) const {
  auto it = steps.find(key);
  return it == steps.end() ? nullptr : &it->second;
}

Status RunState::apply(const Event& e) {
  if (e.seq != lastSeq + 1) {
    return Status::failedPrecondition("event " + std::to_string(e.seq) + " applied after " + std::to_string(lastSeq));
  }
  if (isTerminal(status) && e.type != EventType::kRunStarted) {
    return Status::failedPrecondition(std::string("event ") + eventTypeName(e.type) + " after the run ended");
  }
  lastSeq = e.seq;
  updatedAt = e.time;
  StepState* s = e.step.empty() ? nullptr : &steps[e.step];
  const StepStatus before = s != nullptr ? s->status : StepStatus::kPending;
  switch (e.type) {
    case EventType::kRunStarted:
      workflow = e.data.value("workflow", "");
      version = e.data.value("version", 0);
      workflowHash = e.data.value("hash", "");
      areaHash = e.data.value("area", "");
      startedBy = e.data.value("started_by", "");
      parentRun = e.data.value("parent", "");
      reference = e.data.value("reference", "");
      inputs = e.data.value("inputs", Json::object());
      startedAt = e.time;
      status = RunStatus::kRunning;
      break;
    case EventType::kStepStarted:
      s->status = StepStatus::kRunning;
      s->attempt = e.attempt;
      if (e.attempt <= 1) s->startedAt = e.time;
      s->error = nullptr;
      if (e.data.is_object()) {
        if (e.data.contains("items")) s->items = e.data["items"];
        if (e.data.contains("branch")) s->branch = e.data["branch"].get<int>();
      }
      break;
    case EventType::kStepCompleted:
      s->status = StepStatus::kCompleted;
      s->output = e.data.value("output", Json());
      s->finishedAt = e.time;
      if (s->output.is_object()) {
        // Events come in time order, so the latest band is the last one seen.
        const Json& b = s->output.value(s->approval ? "rating" : "band", Json());
        if (b.is_string() && !b.get_ref<const std::string&>().empty()) band_ = b.get<std::string>();
      }
      break;
    case EventType::kStepFailed:
      s->status = StepStatus::kFailed;
      s->error = e.data.value("error", Json());
      s->handled = e.data.value("handled", false);
      s->finishedAt = e.time;
      break;
    case EventType::kStepSkipped:
      s->status = StepStatus::kSkipped;
      s->finishedAt = e.time;
      break;
    case EventType::kRetryScheduled:
      s->status = StepStatus::kWaiting;
      s->error = e.data.value("error", Json());
      break;
    case EventType::kWaitStarted:
      s->status = StepStatus::kWaiting;
      break;
    case EventType::kTimerFired:
      break;
    case EventType::kDecisionRecorded:
      break;  // the step's output arrives with StepCompleted; this event is the explanation
    case EventType::kApprovalRequested:
      s->status = StepStatus::kWaiting;
      if (s->startedAt == TimePoint{}) s->startedAt = e.time;
      s->approval.emplace().onRequested(e.data);
      if (s->approval->request && !s->approval->request->recommendationText().empty()) {
        band_ = s->approval->request->recommendationText();
      }
      break;
    case EventType::kApprovalDecided:
      if (!s->approval) s->approval.emplace();
      s->approval->onVote(e.data);
      break;
    case EventType::kApprovalClaimed:
      if (s->approval) s->approval->onClaimed(e.data);
      break;
    case EventType::kApprovalReassigned:
      if (s->approval) s->approval->onReassigned(e.data);
      break;
    case EventType::kApprovalReminded:
      break;  // a record that the reminder went out; the approval itself is unchanged
    case EventType::kApprovalEscalated:
      if (s->approval) s->approval->onEscalated(e.data);
      break;
    case EventType::kChildRunStarted:
      s->status = StepStatus::kWaiting;
      s->output = {{"child", e.data.value("child", "")}};
      break;
    case EventType::kRunCompleted:
      status = RunStatus::kCompleted;
      outputs = e.data.value("outputs", Json());
      break;
    case EventType::kRunFailed:
      status = RunStatus::kFailed;
      error = e.data.value("error", Json());
      break;
    case EventType::kRunCancelled:
      status = RunStatus::kCancelled;
      error = e.data;
      if (cancellation.is_object() && cancellation.value("status", "") == "pending") {
        cancellation["status"] = "confirmed";
        cancellation["decided_by"] = e.data.value("by", "");
        cancellation["decided_at"] = formatTime(e.time);
      }
      break;
    case EventType::kCancellationRequested:
      cancellation = e.data;
      cancellation["at"] = formatTime(e.time);
      cancellation["status"] = "pending";
      break;
    case EventType::kCancellationDeclined:
      if (cancellation.is_object()) {
        cancellation["status"] = "declined";
        cancellation["decided_by"] = e.data.value("by", "");
        cancellation["decided_at"] = formatTime(e.time);
      }
      break;
  }
  if (s != nullptr) {
    count(before, -1);
    count(s->status, +1);
    refreshView(e.step);
  }
  // From counts kept as steps change, not a walk over every step: an event costs what it
  // changes, whatever the size of the run (a foreach of thousands of items).
  if (!isTerminal(status)) status = waitingSteps_ > 0 && runningSteps_ == 0 ? RunStatus::kWaiting : RunStatus::kRunning;
  return Status::ok();
}

std::string RunState::bandFromSteps() const {
  // The latest by time; on a tie the decision of a person outranks what it followed.
  std::string best;
  TimePoint at{};
  int rank = -1;
  auto offer = [&](const Json& v, TimePoint t, int r) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) return;
    if (t > at || (t == at && r >= rank)) {
      best = v.get<std::string>();
      at = t;
      rank = r;
    }
  };
  for (const auto& [key, s] : steps) {
    if (s.status == StepStatus::kCompleted && s.output.is_object()) {
      if (s.approval) {
        if (auto it = s.output.find("rating"); it != s.output.end()) offer(*it, s.finishedAt, 2);
      } else if (auto it = s.output.find("band"); it != s.output.end()) {
        offer(*it, s.finishedAt, 1);
      }
    } else if (s.status == StepStatus::kWaiting && s.approval && s.approval->request) {
      offer(Json(s.approval->request->recommendationText()), s.startedAt, 0);
    }
  }
  return best;
}

void RunState::count(StepStatus s, int delta) {
  if (s == StepStatus::kWaiting) waitingSteps_ += delta;
  if (s == StepStatus::kRunning) runningSteps_ += delta;
}

void RunState::refreshView(const std::string& key) {
  const StepState& s = steps[key];
  size_t bracket = key.find('[');
  if (bracket == std::string::npos) {
    view[key] = stepView(s);
  } else {
    iterationViews[key.substr(bracket)][key.substr(0, bracket)] = stepView(s);
  }
}

Json RunState::toJson() const {
  Json st = Json::object();
  for (const auto& [k, s] : steps) {
    Json j = {{"status", stepStatusName(s.status)}, {"attempt", s.attempt}};
    if (!s.output.is_null()) j["output"] = s.output;
    if (!s.error.is_null()) j["error"] = s.error;
    if (s.approval) j["approval"] = s.approval->toJson();
    if (!s.items.is_null()) j["items"] = s.items;
    if (s.branch != -1) j["branch"] = s.branch;
    if (s.handled) j["handled"] = true;
    j["started_at"] = ms(s.startedAt);
    j["finished_at"] = ms(s.finishedAt);
    st[k] = std::move(j);
  }
  Json out = {{"id", id},           {"status", runStatusName(status)}, {"workflow", workflow},
          {"version", version}, {"hash", workflowHash},            {"started_by", startedBy},
          {"parent", parentRun}, {"started_at", ms(startedAt)},    {"updated_at", ms(updatedAt)},
          {"inputs", inputs},   {"outputs", outputs},              {"error", error},
          {"last_seq", lastSeq}, {"steps", std::move(st)}, {"area", areaHash}, {"cancellation", cancellation}};
  // Written only when set, so snapshots of runs without one keep their old text.
  if (!reference.empty()) out["reference"] = reference;
  return out;
}

Result<RunState> RunState::fromJson(const Json& j) {
  RunState r;
  try {
    r.id = j.at("id").get<std::string>();
    auto st = parseRunStatus(j.at("status").get<std::string>());
    if (!st) return Status::invalidArgument("snapshot has an unknown run status");
    r.status = *st;
    r.workflow = j.at("workflow").get<std::string>();
    r.version = j.at("version").get<int>();
    r.workflowHash = j.at("hash").get<std::string>();
    r.areaHash = j.value("area", "");  // snapshots from before areas have none
    r.startedBy = j.at("started_by").get<std::string>();
    r.parentRun = j.at("parent").get<std::string>();
    r.startedAt = fromMs(j.at("started_at").get<long long>());
    r.updatedAt = fromMs(j.at("updated_at").get<long long>());
    r.inputs = j.at("inputs");
    r.outputs = j.at("outputs");
    r.error = j.at("error");
    r.lastSeq = j.at("last_seq").get<uint64_t>();
    r.cancellation = j.value("cancellation", Json());  // snapshots from before have none
    r.reference = j.value("reference", "");
    for (auto it = j.at("steps").begin(); it != j.at("steps").end(); ++it) {
      StepState s;
      const Json& v = it.value();
      for (size_t i = 0; i < kStepStatus.size(); ++i) {
        if (v.at("status").get<std::string>() == kStepStatus[i]) s.status = static_cast<StepStatus>(i);
      }
      s.attempt = v.at("attempt").get<int>();
      s.output = v.value("output", Json());
      s.error = v.value("error", Json());
      if (auto ap = v.find("approval"); ap != v.end() && ap->is_object()) s.approval = ApprovalState::of(*ap);
      s.items = v.value("items", Json());
      s.branch = v.value("branch", -1);
      s.handled = v.value("handled", false);
      s.startedAt = fromMs(v.at("started_at").get<long long>());
      s.finishedAt = fromMs(v.at("finished_at").get<long long>());
      r.count(s.status, +1);
      r.steps[it.key()] = std::move(s);
      r.refreshView(it.key());
    }
  } catch (const Json::exception&) {
    return Status::invalidArgument("run snapshot is malformed");
  }
  r.band_ = r.bandFromSteps();
  return r;
}

}  // namespace vigil

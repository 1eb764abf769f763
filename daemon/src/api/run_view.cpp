// A run as its page shows it: the fold of its chained history with every event, its band,
// each connector call with what it was sent and what came back, and the replay verdict,
// masked for the caller in one place.
#include <map>
#include <utility>

#include "api/masking.h"
#include "api/views.h"
#include "vigil/replay.h"

namespace vigil::daemon {
namespace {

// What came back for each (step key, attempt): the event that answered the call.
std::map<std::pair<std::string, int>, const Event*> answers(const std::vector<Event>& events) {
  std::map<std::pair<std::string, int>, const Event*> out;
  for (const auto& e : events) {
    if (e.type == EventType::kStepCompleted || e.type == EventType::kStepFailed) out[{e.step, e.attempt}] = &e;
    // A retry is scheduled as the next attempt, carrying the error of this one.
    if (e.type == EventType::kRetryScheduled) out[{e.step, e.attempt - 1}] = &e;
  }
  return out;
}

nlohmann::json callJson(const Command& c, const Event* answer, const ConnectorRegistry* connectors,
                        const std::vector<std::string>* maskWith) {
  const std::string id = c.step.substr(0, c.step.find('['));
  const std::string access = connectors != nullptr ? connectors->access(c.connector, c.action) : "";
  nlohmann::json j = {{"step", c.step},
                      {"attempt", c.attempt},
                      {"action", c.connector + "." + c.action},
                      {"purpose", c.purpose},
                      {"access", access.empty() ? "consultation" : access},
                      {"input", maskWith ? maskAt(c.input, "steps." + id + ".input", *maskWith) : c.input}};
  if (answer == nullptr) {
    j["outcome"] = "unanswered";  // in flight, or the run ended first
    return j;
  }
  j["answered_at"] = formatTime(answer->time);
  if (answer->type == EventType::kStepCompleted) {
    j["outcome"] = "ok";
    const nlohmann::json output = answer->data.value("output", nlohmann::json());
    j["output"] = maskWith ? maskAt(output, "steps." + id + ".output", *maskWith) : output;
    if (answer->data.contains("recipient")) j["recipient"] = answer->data["recipient"];
  } else {
    j["outcome"] = answer->type == EventType::kRetryScheduled ? "failed, retried" : "failed";
    j["error"] = answer->data.value("error", nlohmann::json());
  }
  return j;
}

}  // namespace

nlohmann::json runViewJson(const RunState& run, const std::vector<Event>& events, const RunViewContext& ctx) {
  const Workflow* wf = ctx.workflow.get();
  // A definition that cannot be read leaves us not knowing what is sensitive: mask it all.
  const std::vector<std::string> everything = {"inputs", "steps", "outputs"};
  const std::vector<std::string>* maskWith = ctx.unmasked ? nullptr : wf ? &wf->sensitive : &everything;

  nlohmann::json j = run.toJson();
  if (ctx.events) {
    nlohmann::json ev = nlohmann::json::array();
    for (const auto& e : events) ev.push_back(e.toJson());
    j["events"] = std::move(ev);
  }
  j["band"] = run.band();

  nlohmann::json calls = nlohmann::json::array();
  nlohmann::json replay;
  if (!ctx.replay) {
    return maskWith ? maskRun(std::move(j), *maskWith) : j;
  }
  if (wf == nullptr) {
    replay = {{"identical", false}, {"complete", false}, {"note", "the definition the run pinned cannot be read, so it was not replayed"}};
  } else if (!ctx.areaProblem.empty()) {
    replay = {{"identical", false}, {"complete", false}, {"note", "not replayed: " + ctx.areaProblem}};
  } else {
    ReplayResult r = replayRun(run.id, events, ctx.workflow, ctx.area);
    const auto answered = answers(events);
    for (const auto& c : r.calls) {
      auto it = answered.find({c.step, c.attempt});
      calls.push_back(callJson(c, it == answered.end() ? nullptr : it->second, ctx.connectors, maskWith));
    }
    replay = {{"identical", r.identical}, {"complete", r.complete}, {"events", r.replayed.size()}, {"note", r.note}};
    if (!r.identical && r.divergedAt != 0) {
      replay["diverged_at"] = r.divergedAt;
      // The two versions of the event quote its data: only for those who see it unmasked.
      if (ctx.unmasked) {
        replay["expected"] = r.expected;
        replay["got"] = r.got;
      }
    }
  }
  j["calls"] = std::move(calls);
  j["replay"] = std::move(replay);
  return maskWith ? maskRun(std::move(j), *maskWith) : j;
}

}  // namespace vigil::daemon

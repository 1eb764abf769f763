// Starting each kind of step, and completing composite steps from their children.
#include <cmath>

#include "walk.h"

namespace vigil {
namespace {

constexpr size_t kMaxForeachItems = 10000;
// Step instances one run may hold. A constant, not a setting: a replay must hit the limit
// where the run did. It bounds what a run's history, snapshot and every fold of it cost,
// so nested loops over input (300 x 300 items) fail the run instead of stalling the engine.
constexpr size_t kMaxStepsPerRun = 20000;

Command timer(const std::string& key, int attempt, Command::TimerKind kind, TimePoint due) {
  Command t;
  t.kind = Command::Kind::kSetTimer;
  t.step = key;
  t.attempt = attempt;
  t.timer = kind;
  t.due = due;
  return t;
}

}  // namespace

void RunMachine::Walk::startStep(StepIndex idx, const std::string& key, const Scope& scope) {
  const Step& step = wf_.steps[idx];
  if (step.condition) {
    auto c = condition(*step.condition, scope, "'if'");
    if (!c) {
      fail(idx, key, "expression", "'if' of step '" + step.id + "': " + c.status().message());
      return;
    }
    if (!*c) {
      emit(EventType::kStepSkipped, key, 0, Json());
      return;
    }
  }
  switch (step.kind()) {
    case StepKind::kUses:
      callConnector(idx, key, 1, scope);
      return;
    case StepKind::kSet: {
      auto v = eval(std::get<SetStep>(step.body).values, scope);
      if (!v) {
        fail(idx, key, "expression", "'set' of step '" + step.id + "': " + v.status().message());
        return;
      }
      emit(EventType::kStepStarted, key, 1, Json());
      emit(EventType::kStepCompleted, key, 1, {{"output", std::move(v).value()}});
      return;
    }
    case StepKind::kDecide: {
      const auto& d = std::get<DecideStep>(step.body);
      double total = 0;
      Json fired = Json::array();
      Json evaluated = Json::array();  // every rule, fired or not, with the values it read
      for (const auto& rule : d.rules) {
        auto c = condition(rule.when, scope, "rule condition");
        if (!c) {
          fail(idx, key, "expression", "rule '" + rule.id + "' of step '" + step.id + "': " + c.status().message());
          return;
        }
        Json entry = {{"id", rule.id}, {"fired", *c}, {"inputs", inputsOf(rule.when, scope)}};
        if (!*c) {
          evaluated.push_back(std::move(entry));
          continue;
        }
        Json contribution = {{"id", rule.id}, {"score", rule.score}, {"reason", rule.reason}, {"when", rule.when.text()}};
        double score = rule.score;
        if (rule.scoreExpr) {
          // A score that cannot be read fails the step: counting it as 0 would under-rate
          // the referral, and nobody would see that it had been.
          auto v = eval(*rule.scoreExpr, scope);
          if (!v || !v->is_number() || !std::isfinite(v->get<double>())) {
            std::string got = !v ? "could not be computed: " + v.status().message()
                              : v->is_number() ? std::string("must give a finite number, got ") +
                                                     (std::isnan(v->get<double>()) ? "NaN" : "infinity")
                                               : "must give a number, got " + std::string(v->type_name());
            fail(idx, key, "expression", "score of rule '" + rule.id + "' of step '" + step.id + "' " + got);
            return;
          }
          score = v->get<double>();
          contribution["score"] = score;
          contribution["score_expr"] = rule.scoreExpr->text();
          // Only rules with an expression score gain these fields, so the records of rules
          // with a number, and the replays of runs recorded before, stay byte for byte the same.
          entry["score"] = score;
          entry["inputs"].update(inputsOf(*rule.scoreExpr, scope));
        }
        evaluated.push_back(std::move(entry));
        total += score;
        fired.push_back(std::move(contribution));
      }
      if (!std::isfinite(total)) {
        fail(idx, key, "expression", "the total score of step '" + step.id + "' is out of range");
        return;
      }
      std::string band = d.bands.empty() ? "" : d.bands.back().name;
      for (const auto& b : d.bands) {
        if (total >= b.threshold) {
          band = b.name;
          break;
        }
      }
      Json output = {{"score", total}, {"band", band}, {"fired", std::move(fired)}};
      emit(EventType::kStepStarted, key, 1, Json());
      Json record = output;
      record["rules"] = std::move(evaluated);
      emit(EventType::kDecisionRecorded, key, 1, std::move(record));
      emit(EventType::kStepCompleted, key, 1, {{"output", std::move(output)}});
      return;
    }
    case StepKind::kParallel:
      emit(EventType::kStepStarted, key, 1, Json());
      return;
    case StepKind::kForeach: {
      auto items = eval(std::get<ForeachStep>(step.body).items, scope);
      if (!items) {
        fail(idx, key, "expression", "'foreach' of step '" + step.id + "': " + items.status().message());
        return;
      }
      if (!items->is_array()) {
        fail(idx, key, "expression", "'foreach' of step '" + step.id + "' needs a list, got " +
                                         std::string(items->is_null() ? "null" : items->type_name()));
        return;
      }
      if (items->size() > kMaxForeachItems) {
        fail(idx, key, "limit", "'foreach' of step '" + step.id + "' has more than 10000 items");
        return;
      }
      const size_t body = std::get<ForeachStep>(step.body).body.size();
      if (st_.steps.size() + items->size() * body > kMaxStepsPerRun) {
        fail(idx, key, "limit",
             "'foreach' of step '" + step.id + "' over " + std::to_string(items->size()) + " items would take the run past " +
                 std::to_string(kMaxStepsPerRun) + " steps (it has " + std::to_string(st_.steps.size()) + ")");
        return;
      }
      emit(EventType::kStepStarted, key, 1, {{"items", std::move(items).value()}});
      return;
    }
    case StepKind::kSwitch: {
      const auto& sw = std::get<SwitchStep>(step.body);
      int branch = sw.otherwise.empty() ? -3 : -2;
      for (size_t i = 0; i < sw.cases.size(); ++i) {
        auto c = condition(sw.cases[i].when, scope, "case condition");
        if (!c) {
          fail(idx, key, "expression", "case " + std::to_string(i + 1) + " of step '" + step.id + "': " + c.status().message());
          return;
        }
        if (*c) {
          branch = static_cast<int>(i);
          break;
        }
      }
      emit(EventType::kStepStarted, key, 1, {{"branch", branch}});
      return;
    }
    case StepKind::kCall: {
      const auto& call = std::get<CallStep>(step.body);
      auto input = eval(call.with, scope);
      if (!input) {
        fail(idx, key, "expression", "'with' of step '" + step.id + "': " + input.status().message());
        return;
      }
      std::string child = st_.id + "." + key;  // deterministic: starting it twice is harmless
      emit(EventType::kStepStarted, key, 1, Json());
      emit(EventType::kChildRunStarted, key, 1, {{"child", child}, {"workflow", call.workflow}});
      Command c;
      c.kind = Command::Kind::kStartChild;
      c.step = key;
      c.childRun = child;
      c.workflow = call.workflow;
      c.input = input->is_null() ? Json::object() : std::move(input).value();
      out_.commands.push_back(std::move(c));
      return;
    }
    case StepKind::kApproval: {
      const auto& a = std::get<ApprovalStep>(step.body);
      Json request = {{"roles", a.roles},
                      {"users", a.users},
                      {"options", a.options},
                      {"quorum", a.quorum},
                      {"reason_required", a.reasonRequired},
                      {"reason_min_length", a.reasonMinLength}};
      std::optional<TimePoint> due;
      if (a.timeout) due = now_ + *a.timeout;
      if (a.due) {
        auto v = eval(*a.due, scope);
        std::optional<TimePoint> t;
        if (v && v->is_string()) t = parseTime(v->get<std::string>());
        if (!t) {
          fail(idx, key, "expression", "'due' of step '" + step.id + "' must give an ISO-8601 time" +
                                           (v ? std::string() : ": " + v.status().message()));
          return;
        }
        due = t;
      }
      if (due) request["due"] = formatTime(*due);
      if (a.recommendation) {
        auto r = eval(*a.recommendation, scope);
        request["recommendation"] = r ? std::move(r).value() : Json();
      }
      // The inbox's order and line. A priority or summary that cannot be computed is not
      // a reason to hide the task: it lists at the top, saying why, so a person looks.
      if (a.priority) {
        auto p = eval(*a.priority, scope);
        if (p && p->is_number()) {
          request["priority"] = p->get<double>();
        } else {
          request["priority"] = 1e9;
          request["priority_error"] = p ? "priority must be a number, got " + std::string(p->type_name()) : p.status().message();
        }
      }
      if (a.summary) {
        auto t = eval(*a.summary, scope);
        std::string line = t && t->is_string() ? t->get<std::string>() : (t ? t->dump() : "(summary could not be computed)");
        if (line.size() > 200) {
          size_t cut = 197;
          while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // whole characters
          line = line.substr(0, cut) + "...";
        }
        request["summary"] = std::move(line);
      }
      Json shown = Json::object();
      for (const auto& path : a.show) {
        auto e = Expression::parse(path);
        if (auto* expr = std::get_if<Expression>(&e)) {
          auto v = eval(*expr, scope);
          shown[path] = v ? std::move(v).value() : Json();
        }
      }
      request["show"] = std::move(shown);
      Json excluded = Json::array();
      for (const auto& df : a.distinctFrom) {
        auto v = eval(df, scope);
        if (v && !v->is_null()) excluded.push_back(std::move(v).value());
      }
      request["distinct_from"] = std::move(excluded);
      emit(EventType::kStepStarted, key, 1, Json());
      emit(EventType::kApprovalRequested, key, 1, std::move(request));
      if (a.timeout) out_.commands.push_back(timer(key, 1, Command::TimerKind::kApprovalTimeout, now_ + *a.timeout));
      for (size_t level = 0; level < a.escalate.size(); ++level) {
        const auto& esc = a.escalate[level];
        if (esc.when) {
          auto v = eval(*esc.when, scope);
          if (!v || *v != Json(true)) continue;  // not this run's escalation (an error counts as no)
        }
        // Past due already (a referral that arrived hours ago): the timer fires at once.
        TimePoint at = esc.beforeDue && due ? *due - *esc.beforeDue : now_ + esc.after;
        out_.commands.push_back(timer(key, static_cast<int>(level) + 1, Command::TimerKind::kEscalation, at));
      }
      return;
    }
    case StepKind::kWait: {
      const auto& w = std::get<WaitStep>(step.body);
      TimePoint due = now_;
      if (w.duration) {
        due = now_ + *w.duration;
      } else if (w.until) {
        auto v = eval(*w.until, scope);
        std::optional<TimePoint> t;
        if (v && v->is_string()) t = parseTime(v->get<std::string>());
        if (!t) {
          fail(idx, key, "expression", "'until' of step '" + step.id + "' must give an ISO-8601 time" +
                                           (v ? std::string() : ": " + v.status().message()));
          return;
        }
        due = *t;
      }
      emit(EventType::kStepStarted, key, 1, Json());
      if (due <= now_) {
        emit(EventType::kStepCompleted, key, 1, {{"output", {{"until", formatTime(due)}}}});
        return;
      }
      emit(EventType::kWaitStarted, key, 1, {{"until", formatTime(due)}});
      out_.commands.push_back(timer(key, 1, Command::TimerKind::kWait, due));
      return;
    }
  }
}

RunMachine::Walk::BlockResult RunMachine::Walk::walkComposite(StepIndex idx, const std::string& key, const Scope& scope) {
  const Step& step = wf_.steps[idx];
  auto childFailed = [&](const std::string& failedKey) {
    const StepState* f = st_.step(failedKey);
    std::string msg = "step '" + failedKey + "' failed";
    if (f != nullptr && f->error.is_object()) msg += ": " + f->error.value("message", std::string());
    fail(idx, key, "child_step_failed", msg);
    return BlockResult{Outcome::kDone, {}};
  };
  switch (step.kind()) {
    case StepKind::kParallel: {
      const auto& p = std::get<ParallelStep>(step.body);
      bool busy = false;
      Json output = Json::object();
      for (StepIndex b : p.branches) {
        BlockResult r = walkBlock({b}, scope);
        if (r.outcome == Outcome::kFailed) return childFailed(r.failedKey);
        if (r.outcome == Outcome::kBusy) busy = true;
        const StepState* bs = st_.step(wf_.steps[b].id + scope.iter);
        output[wf_.steps[b].id] = bs != nullptr ? bs->output : Json();
      }
      if (busy) return {Outcome::kBusy, {}};
      emit(EventType::kStepCompleted, key, 1, {{"output", std::move(output)}});
      return {Outcome::kDone, {}};
    }
    case StepKind::kForeach: {
      const auto& f = std::get<ForeachStep>(step.body);
      const Json items = st_.step(key)->items;
      size_t active = 0;
      bool busy = false;
      Json output = Json::array();
      for (size_t i = 0; i < items.size(); ++i) {
        Scope inner = scope;
        inner.iter += "[" + std::to_string(i) + "]";
        bool started = st_.step(wf_.steps[f.body.front()].id + inner.iter) != nullptr;
        if (!started && active >= static_cast<size_t>(f.concurrency)) {
          busy = true;
          break;
        }
        inner.locals.emplace_back(f.as, items[i]);
        inner.locals.emplace_back("index", static_cast<long long>(i));
        BlockResult r = walkBlock(f.body, inner);
        if (r.outcome == Outcome::kFailed) return childFailed(r.failedKey);
        if (r.outcome == Outcome::kBusy) {
          ++active;
          busy = true;
          continue;
        }
        Json iteration = Json::object();
        for (StepIndex b : f.body) {
          const StepState* bs = st_.step(wf_.steps[b].id + inner.iter);
          iteration[wf_.steps[b].id] = bs != nullptr ? bs->output : Json();
        }
        output.push_back(std::move(iteration));
      }
      if (busy) return {Outcome::kBusy, {}};
      emit(EventType::kStepCompleted, key, 1, {{"output", std::move(output)}});
      return {Outcome::kDone, {}};
    }
    case StepKind::kSwitch: {
      const auto& sw = std::get<SwitchStep>(step.body);
      int branch = st_.step(key)->branch;
      static const std::vector<StepIndex> kNone;
      const std::vector<StepIndex>& steps = branch >= 0 ? sw.cases[static_cast<size_t>(branch)].steps
                                            : branch == -2 ? sw.otherwise
                                                           : kNone;
      BlockResult r = walkBlock(steps, scope);
      if (r.outcome == Outcome::kFailed) return childFailed(r.failedKey);
      if (r.outcome == Outcome::kBusy) return r;
      emit(EventType::kStepCompleted, key, 1, {{"output", {{"branch", branch >= 0 ? Json(branch) : Json(branch == -2 ? "default" : "none")}}}});
      return {Outcome::kDone, {}};
    }
    default:
      return {Outcome::kBusy, {}};  // waits for a connector, a timer, a person or a child run
  }
}

}  // namespace vigil

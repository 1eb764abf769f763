// One pass over a run's step tree; see walk.h.
#include <openssl/sha.h>

#include "walk.h"

#include <cassert>

#include "vigil/duration.h"

namespace vigil {

// What an expression in a given scope can name.
class ScopeBindings final : public Bindings {
 public:
  ScopeBindings(const RunState& st, const Scope& scope, const Json& secrets) : st_(st), scope_(scope), secrets_(secrets) {}
  const Json* lookup(std::string_view name) const override {
    if (name == "inputs") return &st_.inputs;
    if (name == "secrets") return &secrets_;
    if (name == "run") return run();
    if (name == "steps") return steps();
    if (name == "error") return scope_.error;
    for (const auto& [n, v] : scope_.locals) {
      if (n == name) return &v;
    }
    return nullptr;
  }

 private:
  const Json* steps() const {
    if (scope_.iter.empty()) return &st_.view;
    if (merged_.is_null()) {
      // Inside foreach iterations a step id means this iteration's run of it.
      merged_ = st_.view;
      size_t pos = 0;
      while ((pos = scope_.iter.find(']', pos)) != std::string::npos) {
        ++pos;
        auto it = st_.iterationViews.find(scope_.iter.substr(0, pos));
        if (it == st_.iterationViews.end()) continue;
        for (auto e = it->second.begin(); e != it->second.end(); ++e) merged_[e.key()] = e.value();
      }
    }
    return &merged_;
  }

  // Built only when an expression names `run`: most never do, and this runs per evaluation.
  const Json* run() const {
    if (run_.is_null()) {
      run_ = {{"id", st_.id}, {"started_by", st_.startedBy}, {"workflow", st_.workflow}, {"version", st_.version},
              {"started_at", formatTime(st_.startedAt)}};
    }
    return &run_;
  }

  const RunState& st_;
  const Scope& scope_;
  const Json& secrets_;
  mutable Json run_;
  mutable Json merged_;
};

void RunMachine::Walk::emit(EventType type, const std::string& step, int attempt, Json data) {
  Event e;
  e.seq = st_.lastSeq + 1;
  e.type = type;
  e.time = now_;
  e.step = step;
  e.attempt = attempt;
  e.data = std::move(data);
  Status s = st_.apply(e);
  assert(s.isOk());
  (void)s;
  out_.events.push_back(std::move(e));
}

EvalContext RunMachine::Walk::context(const Scope&, ScopeBindings& b) const {
  EvalContext ctx;
  ctx.bindings = &b;
  ctx.now = now_;
  ctx.area = m_.area_.get();
  return ctx;
}

Result<Json> RunMachine::Walk::eval(const Expression& e, const Scope& scope) const {
  ScopeBindings b(st_, scope, wf_.secrets);
  return e.evaluate(context(scope, b));
}
Result<Json> RunMachine::Walk::eval(const Template& t, const Scope& scope) const {
  ScopeBindings b(st_, scope, wf_.secrets);
  return t.evaluate(context(scope, b));
}
Result<Json> RunMachine::Walk::eval(const ValueTemplate& v, const Scope& scope) const {
  ScopeBindings b(st_, scope, wf_.secrets);
  return v.evaluate(context(scope, b));
}

std::string RunMachine::Walk::reference() const {
  if (!wf_.reference) return "";
  auto v = eval(*wf_.reference, Scope{});
  if (!v || v->is_null()) return "";
  std::string text = v->is_string() ? v->get<std::string>() : v->dump();
  if (text.size() > 200) text.resize(200);
  return text;
}

bool RunMachine::Walk::holds(const Expression& e, const Scope& scope, std::string* why) const {
  auto v = condition(e, scope, "requirement");
  if (!v) {
    *why = v.status().message();
    return false;
  }
  return *v;
}

Result<bool> RunMachine::Walk::condition(const Expression& e, const Scope& scope, const char* what) const {
  auto v = eval(e, scope);
  if (!v) return v.status();
  if (!v->is_boolean()) {
    return Status::invalidArgument(std::string(what) + " must give true or false, got " +
                                   (v->is_null() ? "null" : v->type_name()));
  }
  return v->get<bool>();
}

Json RunMachine::Walk::inputsOf(const Expression& e, const Scope& scope) const {
  ScopeBindings b(st_, scope, wf_.secrets);
  Json out = Json::object();
  for (const auto& ref : e.paths()) {
    const Json* v = b.lookup(ref.segments[0]);
    std::string path = ref.segments[0];
    for (size_t i = 1; i < ref.segments.size() && v != nullptr; ++i) {
      path += "." + ref.segments[i];
      if (!v->is_object()) {
        v = nullptr;
        break;
      }
      auto it = v->find(ref.segments[i]);
      v = it == v->end() ? nullptr : &*it;
    }
    out[path] = v != nullptr ? *v : Json();
  }
  return out;
}

std::optional<StepIndex> RunMachine::Walk::indexOfKey(const std::string& key) const {
  return wf_.findStep(key.substr(0, key.find('[')));
}

Scope RunMachine::Walk::scopeOfKey(const std::string& key) const {
  // Rebuild the foreach locals of an iteration key such as "school[2]" from the state.
  Scope scope;
  size_t bracket = key.find('[');
  if (bracket == std::string::npos) return scope;
  scope.iter = key.substr(bracket);
  auto idx = indexOfKey(key);
  if (!idx) return scope;
  std::vector<StepIndex> foreaches;
  for (auto p = wf_.steps[*idx].parent; p; p = wf_.steps[*p].parent) {
    if (wf_.steps[*p].kind() == StepKind::kForeach) foreaches.insert(foreaches.begin(), *p);
  }
  std::string prefix;
  size_t pos = 0;
  for (StepIndex f : foreaches) {
    size_t close = scope.iter.find(']', pos);
    if (close == std::string::npos) break;
    int i = std::stoi(scope.iter.substr(pos + 1, close - pos - 1));
    const StepState* fs = st_.step(wf_.steps[f].id + prefix);
    prefix = scope.iter.substr(0, close + 1);
    pos = close + 1;
    const auto& fe = std::get<ForeachStep>(wf_.steps[f].body);
    Json item = fs != nullptr && fs->items.is_array() && static_cast<size_t>(i) < fs->items.size() ? fs->items[static_cast<size_t>(i)] : Json();
    scope.locals.emplace_back(fe.as, std::move(item));
    scope.locals.emplace_back("index", i);
  }
  return scope;
}

void RunMachine::Walk::fail(StepIndex idx, const std::string& key, const std::string& code, const std::string& message) {
  const Step& step = wf_.steps[idx];
  bool handled = step.onError.mode != ErrorPolicy::Mode::kFail;
  emit(EventType::kStepFailed, key, st_.step(key) ? st_.step(key)->attempt : 0,
       {{"error", {{"code", code}, {"message", message}, {"step", step.id}}}, {"handled", handled}});
}

void RunMachine::Walk::callConnector(StepIndex idx, const std::string& key, int attempt, const Scope& scope) {
  const Step& step = wf_.steps[idx];
  const auto& uses = std::get<UsesStep>(step.body);
  auto input = eval(uses.with, scope);
  if (!input) {
    fail(idx, key, "expression", "'with' of step '" + step.id + "': " + input.status().message());
    return;
  }
  emit(EventType::kStepStarted, key, attempt, Json());
  Command c;
  c.kind = Command::Kind::kCallConnector;
  c.step = key;
  c.attempt = attempt;
  c.connector = uses.connector;
  c.action = uses.action;
  c.input = std::move(input).value();
  c.idempotencyKey = st_.id + "/" + key + "/" + std::to_string(attempt);
  c.purpose = step.purpose;
  if (step.timeout) {
    c.deadline = now_ + *step.timeout;
    Command t;
    t.kind = Command::Kind::kSetTimer;
    t.step = key;
    t.attempt = attempt;
    t.timer = Command::TimerKind::kTimeout;
    t.due = *c.deadline;
    out_.commands.push_back(std::move(t));
  }
  out_.commands.push_back(std::move(c));
}

void RunMachine::Walk::remind(StepIndex idx, const std::string& key, int level) {
  const auto& a = std::get<ApprovalStep>(wf_.steps[idx].body);
  const auto& remind = a.escalate[static_cast<size_t>(level - 1)].remind;
  if (!remind) return;
  auto input = eval(remind->with, scopeOfKey(key));
  if (!input) {
    emit(EventType::kApprovalReminded, key, level,
         {{"connector", remind->connector}, {"ok", false}, {"code", "expression"}, {"message", input.status().message()}});
    return;
  }
  Command c;
  c.kind = Command::Kind::kCallConnector;
  c.step = key;
  c.attempt = kReminderAttempt + level;
  c.connector = remind->connector;
  c.action = remind->action;
  c.input = std::move(input).value();
  c.idempotencyKey = st_.id + "/" + key + "/remind-" + std::to_string(level);
  c.purpose = "reminder: approval '" + key + "' escalated";
  out_.commands.push_back(std::move(c));
}

void RunMachine::Walk::handleCallFailure(StepIndex idx, const std::string& key, int attempt, const CallOutcome& o) {
  const Step& step = wf_.steps[idx];
  if (o.retryable && step.retry && attempt < step.retry->maxAttempts) {
    const RetryPolicy& r = *step.retry;
    long long delay = r.initial.count();
    if (r.backoff == RetryPolicy::Backoff::kExponential) {
      for (int i = 1; i < attempt && delay < r.maxDelay.count(); ++i) delay *= 2;
    }
    delay = std::min<long long>(delay, r.maxDelay.count());
    if (r.jitter) {
      // Deterministic jitter in [50%, 100%] of the delay, so replay computes the same due time:
      // from SHA-256, which is the same on every build and platform (std::hash is not).
      const std::string material = st_.id + "/" + key + "/" + std::to_string(attempt);
      unsigned char md[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), md);
      uint64_t h = 0;
      for (int i = 0; i < 8; ++i) h = (h << 8) | md[i];
      delay = delay / 2 + static_cast<long long>(h % static_cast<uint64_t>(delay / 2 + 1));
    }
    if (o.retryAfter) delay = std::max<long long>(delay, std::min<long long>(o.retryAfter->count(), 3600000));
    TimePoint due = now_ + std::chrono::milliseconds(delay);
    emit(EventType::kRetryScheduled, key, attempt + 1,
         {{"due", formatTime(due)}, {"error", {{"code", o.code}, {"message", o.message}}}});
    Command t;
    t.kind = Command::Kind::kSetTimer;
    t.step = key;
    t.attempt = attempt + 1;
    t.timer = Command::TimerKind::kRetry;
    t.due = due;
    out_.commands.push_back(std::move(t));
    return;
  }
  fail(idx, key, o.code.empty() ? "connector_error" : o.code, o.message);
}

void RunMachine::Walk::advance() {
  if (isTerminal(st_.status)) return;
  BlockResult r = walkBlock(wf_.topLevel, Scope{});
  if (r.outcome == Outcome::kBusy) return;
  if (r.outcome == Outcome::kFailed && !wf_.onError.empty()) {
    Scope handler;
    handler.error = &st_.steps[r.failedKey].error;
    BlockResult h = walkBlock(wf_.onError, handler);
    if (h.outcome == Outcome::kBusy) return;
  }
  finishRun(r);
}

void RunMachine::Walk::finishRun(const BlockResult& r) {
  Command ended;
  ended.kind = Command::Kind::kRunEnded;
  if (r.outcome == Outcome::kFailed) {
    Json error = st_.steps[r.failedKey].error;
    emit(EventType::kRunFailed, "", 0, {{"error", error}});
    ended.input = {{"status", "failed"}, {"error", error}};
    out_.commands.push_back(std::move(ended));
    return;
  }
  Json outputs = Json::object();
  for (const auto& [name, tmpl] : wf_.outputs) {
    auto v = eval(tmpl, Scope{});
    if (!v) {
      Json error = {{"code", "expression"}, {"message", "output '" + name + "': " + v.status().message()}};
      emit(EventType::kRunFailed, "", 0, {{"error", error}});
      ended.input = {{"status", "failed"}, {"error", error}};
      out_.commands.push_back(std::move(ended));
      return;
    }
    outputs[name] = std::move(v).value();
  }
  emit(EventType::kRunCompleted, "", 0, {{"outputs", outputs}});
  ended.input = {{"status", "completed"}, {"outputs", std::move(outputs)}};
  out_.commands.push_back(std::move(ended));
}

RunMachine::Walk::BlockResult RunMachine::Walk::walkBlock(const std::vector<StepIndex>& list, const Scope& scope) {
  for (StepIndex idx : list) {
    const Step& step = wf_.steps[idx];
    const std::string key = step.id + scope.iter;
    const StepState* s = st_.step(key);
    if (s == nullptr || s->status == StepStatus::kPending) {
      startStep(idx, key, scope);
      s = st_.step(key);
    }
    if (s->status == StepStatus::kRunning || s->status == StepStatus::kWaiting) {
      BlockResult r = walkComposite(idx, key, scope);
      s = st_.step(key);
      if (r.outcome == Outcome::kBusy || !isTerminal(s->status)) return {Outcome::kBusy, {}};
    }
    if (s->status == StepStatus::kFailed) {
      if (!s->handled) return {Outcome::kFailed, key};
      if (step.onError.mode == ErrorPolicy::Mode::kSteps) {
        Scope handler = scope;
        handler.error = &s->error;
        BlockResult h = walkBlock(step.onError.steps, handler);
        if (h.outcome != Outcome::kDone) return h;
      }
    }
  }
  return {Outcome::kDone, {}};
}

}  // namespace vigil

// Internal: one pass of the run machine over a run's step tree. It starts every step
// that is ready, completes composite steps whose children are done, and ends the run
// when its steps are done or have failed unhandled. Events are applied to the state as
// they are emitted, so later decisions in the same pass see them.
#pragma once

#include "vigil/machine.h"

namespace vigil {

struct Scope {
  std::string iter;                 // "" at top level, "[i]" or "[i][j]" inside foreach
  const Json* error = nullptr;      // in on_error handlers
  std::vector<std::pair<std::string, Json>> locals;  // foreach `as` name and index
};

class RunMachine::Walk {
 public:
  Walk(const RunMachine& m, RunState& st, TimePoint now, Transition& out) : m_(m), wf_(*m.wf_), st_(st), now_(now), out_(out) {}

  void emit(EventType type, const std::string& step, int attempt, Json data);
  void advance();
  void fail(StepIndex idx, const std::string& key, const std::string& code, const std::string& message);
  void callConnector(StepIndex idx, const std::string& key, int attempt, const Scope& scope);
  void handleCallFailure(StepIndex idx, const std::string& key, int attempt, const CallOutcome& outcome);
  // An escalation's reminder: a connector call whose result is only recorded (attempt
  // kReminderAttempt + level, so it can never be mistaken for the step's own calls).
  void remind(StepIndex idx, const std::string& key, int level);
  static constexpr int kReminderAttempt = 1000;
  std::optional<StepIndex> indexOfKey(const std::string& key) const;
  Scope scopeOfKey(const std::string& key) const;
  // A condition in `scope`, for the rules of approvals (an error or a non-boolean is false
  // with why in `why`).
  bool holds(const Expression& e, const Scope& scope, std::string* why) const;
  // The workflow's `reference:` over the run's inputs: at most 200 characters, "" when it has
  // none or it cannot be computed.
  std::string reference() const;

 private:
  enum class Outcome { kDone, kBusy, kFailed };
  struct BlockResult {
    Outcome outcome = Outcome::kDone;
    std::string failedKey;
  };

  BlockResult walkBlock(const std::vector<StepIndex>& list, const Scope& scope);
  BlockResult walkComposite(StepIndex idx, const std::string& key, const Scope& scope);
  void startStep(StepIndex idx, const std::string& key, const Scope& scope);
  void finishRun(const BlockResult& r);

  Result<Json> eval(const Expression& e, const Scope& scope) const;
  Result<Json> eval(const Template& t, const Scope& scope) const;
  Result<Json> eval(const ValueTemplate& v, const Scope& scope) const;
  Result<bool> condition(const Expression& e, const Scope& scope, const char* what) const;
  // The values an expression read: each static path it names, resolved in `scope`.
  Json inputsOf(const Expression& e, const Scope& scope) const;
  EvalContext context(const Scope& scope, class ScopeBindings& b) const;

  const RunMachine& m_;
  const Workflow& wf_;
  RunState& st_;
  TimePoint now_;
  Transition& out_;
};

}  // namespace vigil

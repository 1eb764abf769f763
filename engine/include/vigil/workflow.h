// The workflow model: a validated, immutable workflow definition.
//
// Produced only by the loader (vigil/loader.h). Steps live in one flat array and refer to
// each other by StepIndex, never by pointer, so the model is cheap to share between runs
// and threads (it is never modified after loading). Expressions are already compiled.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "vigil/cron.h"
#include "vigil/expr.h"
#include "vigil/value_template.h"

namespace vigil {

using StepIndex = uint32_t;
using Millis = std::chrono::milliseconds;

struct SourcePos {
  int line = 0;
  int column = 0;
};

// JSON-Schema-like type of an input or approval form field.
struct TypeSpec {
  std::string type;  // string, number, integer, boolean, object, array, any
  std::string description;
  std::vector<std::string> required;               // object
  std::map<std::string, TypeSpec> properties;      // object
  std::shared_ptr<const TypeSpec> items;           // array
  std::vector<Json> enumValues;
  std::optional<Json> defaultValue;
};

// Whether a JSON value is of a TypeSpec type name (string, number, integer, boolean,
// object, array, any).
bool hasType(const Json& v, std::string_view type);
// Checks `v` against `t` (type, enum, required fields, items), filling declared defaults.
// The error names `path` and the field, never the value.
Status checkValue(const TypeSpec& t, Json& v, const std::string& path);

// What `secrets.NAME` evaluates to: a marker the connector worker replaces with the value at
// the moment of the call ("\x01secret:NAME\x01"), so values never enter a run's state.
std::string secretMarker(const std::string& name);

struct RetryPolicy {
  enum class Backoff { kFixed, kExponential };
  int maxAttempts = 1;  // including the first
  Backoff backoff = Backoff::kExponential;
  Millis initial{1000};
  Millis maxDelay{300000};
  bool jitter = true;
};

struct ErrorPolicy {
  enum class Mode { kFail, kContinue, kSteps };
  Mode mode = Mode::kFail;
  std::vector<StepIndex> steps;  // kSteps
};

struct UsesStep {
  std::string connector;
  std::string action;
  ValueTemplate with;
};
struct ParallelStep {
  std::vector<StepIndex> branches;
};
struct ForeachStep {
  Template items;
  std::string as = "item";
  int concurrency = 1;
  std::vector<StepIndex> body;
};
struct SwitchStep {
  struct Case {
    Expression when;
    std::vector<StepIndex> steps;
  };
  std::vector<Case> cases;
  std::vector<StepIndex> otherwise;
};
struct CallStep {
  std::string workflow;
  ValueTemplate with;
};
struct SetStep {
  ValueTemplate values;  // an object
};
struct DecideStep {
  struct Rule {
    std::string id;
    Expression when;
    // A score written as a number, or `scoreExpr`: an expression evaluated when the rule
    // fires, whose contribution is only known in a run (its DecisionRecorded event). For
    // such a rule `score` is NaN, so nothing can mistake it for a contribution of 0.
    double score = 0;
    std::optional<Expression> scoreExpr;
    std::string reason;
  };
  struct Band {
    std::string name;
    double threshold = 0;
  };
  std::vector<Rule> rules;
  std::vector<Band> bands;  // highest threshold first
};
struct ApprovalStep {
  struct Escalation {
    Millis after{0};                   // after the request, or
    std::optional<Millis> beforeDue;   // this long before `due` (0s: at it)
    std::optional<Expression> when;    // only when true as the approval is requested
    std::vector<std::string> to;
    std::optional<UsesStep> remind;  // a connector call (e-mail) telling them, when escalated
  };
  std::vector<std::string> roles;
  std::vector<std::string> users;
  int quorum = 1;
  std::vector<Expression> distinctFrom;
  std::vector<std::string> options;  // default {approve, reject}
  bool reasonRequired = true;
  int reasonMinLength = 10;
  std::optional<Millis> timeout;
  std::string onTimeout = "fail";  // fail, escalate, or one of options
  std::vector<Escalation> escalate;
  std::vector<std::string> show;  // paths shown to the approver
  std::map<std::string, TypeSpec> form;
  std::optional<Expression> recommendation;
  std::optional<Expression> due;  // the decision's target time (an SLA), shown and reported
  std::map<std::string, std::string> ratings;  // option -> the rating it stands for
  // The inbox: a number (higher first) and a one-line summary shown in every list. Both
  // are evaluated once, when the approval is requested, and recorded in the request.
  std::optional<Expression> priority;
  std::optional<Template> summary;
  // Conditions a decision must meet, checked when it is made; `decision` is bound to
  // {decision, rating, form, reason}. A decision for which one is not true is refused with
  // its message (mash-triage: no GREEN for an unverified child without confirming who it is).
  struct Requirement {
    Expression when;
    std::string message;
  };
  std::vector<Requirement> require;
};
struct WaitStep {
  std::optional<Millis> duration;
  std::optional<Template> until;
};

enum class StepKind { kUses, kParallel, kForeach, kSwitch, kCall, kSet, kDecide, kApproval, kWait };
const char* stepKindName(StepKind k);

struct Step {
  std::string id;
  std::string name;
  SourcePos pos;
  std::optional<StepIndex> parent;
  std::optional<Expression> condition;  // `if`
  std::string purpose;
  std::optional<RetryPolicy> retry;
  std::optional<Millis> timeout;
  ErrorPolicy onError;
  std::variant<UsesStep, ParallelStep, ForeachStep, SwitchStep, CallStep, SetStep, DecideStep, ApprovalStep,
               WaitStep>
      body;

  StepKind kind() const { return static_cast<StepKind>(body.index()); }
};

struct Trigger {
  enum class Kind { kCron, kWebhook, kWatch };
  Kind kind = Kind::kCron;
  std::string spec;  // cron text, webhook path, or watched folder
  std::optional<CronSchedule> cron;
  std::optional<TimeZone> zone;  // cron: the zone its fields are read in (UTC when absent)
  std::string pattern;  // watch: file name glob
  // webhook `wait:`: the delivery's answer waits until the run ends or parks, at most this
  // long, and carries its outputs (the sender's "respond when done"); unset: answered at start.
  std::optional<Millis> wait;
  SourcePos pos;
};

struct Workflow {
  std::string name;
  int version = 0;
  std::string description;
  std::string owner;
  SourcePos ownerPos;
  // `reference:` the run's business key (a referral id), computed from its inputs when it
  // starts and recorded in RunStarted; the runs list is searched by it. It may not read a
  // sensitive value: every list shows it, and it outlives the erasure of personal data.
  std::optional<Template> reference;
  SourcePos referencePos;
  // Who may cancel a run that has not ended: a second person holding the owner role
  // confirms (the default), or anyone allowed to cancel, alone (`cancel: single`).
  enum class CancelPolicy { kConfirm, kSingle };
  CancelPolicy cancel = CancelPolicy::kConfirm;
  std::optional<int> retentionDays;   // `retention:`: finished runs' personal data is erased after this
  std::string sourceFile;
  std::map<std::string, TypeSpec> inputs;
  std::map<std::string, ValueTemplate> outputs;
  std::vector<std::string> sensitive;
  // Roles with a need to know the sensitive fields (a MASH supervisor cannot decide blind):
  // they see them unmasked, and every such view is a consultation record. Others see them
  // masked unless their system role may read sensitive data.
  std::vector<std::string> needToKnow;
  // Values computed from sensitive ones are sensitive too (the loader adds their paths to
  // `sensitive`), except these, which the author declares carry no personal data (a match
  // status, a yes/no).
  std::vector<std::string> notSensitive;
  // secrets.NAME as `with:` templates see it: NAME -> secretMarker(NAME), never the value.
  Json secrets = Json::object();
  std::vector<Trigger> triggers;
  std::vector<Step> steps;            // every step, in document order
  std::vector<StepIndex> topLevel;
  std::vector<StepIndex> onError;
  // Calendars and timescales the expressions name with literals: the area a workflow is
  // published under must have them (checked at publication, not when a run gets there).
  struct AreaName {
    bool timescale = false;  // else a calendar
    std::string name;
    SourcePos pos;
  };
  std::vector<AreaName> areaNames;
  std::string canonicalJson;          // sorted keys, no whitespace
  std::string hash;                   // hex SHA-256 of canonicalJson

  std::optional<StepIndex> findStep(std::string_view id) const;
};

}  // namespace vigil

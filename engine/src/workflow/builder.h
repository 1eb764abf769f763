// Internal: turns a YAML tree into a Workflow, recording every diagnostic.
#pragma once

#include <map>
#include <set>

#include "checker.h"
#include "vigil/loader.h"

namespace vigil::loader {

// One expression as written in the file, kept for the reference checks.
struct ExprUse {
  Expression expr;
  OffsetMap where;   // expression offset -> file position
  std::string what;  // "condition of step 'x'"
  bool secretsAllowed = false;  // the `with` of a connector call: the only place `secrets.NAME` may appear
  std::vector<std::string> bindings = {};  // names bound for this use alone (`decision` in an approval's `require`)
};

// "step 'pnd'", or "step at line 12" for a step without a usable id.
std::string stepWhat(const Step& s);

// Stands in for a declared input or field whose type is wrong: it is still declared, so
// its uses must not also be reported as unknown.
inline TypeSpec anyType() {
  TypeSpec t;
  t.type = "any";
  return t;
}

// Where an expression is evaluated, for reference checks.
enum class Scope { kStep, kStepErrorHandler, kWorkflowErrorHandler, kOutputs, kAnywhere };

class Builder {
 public:
  Builder(Checker& checker, Workflow& wf, const LoadLimits& limits) : c_(checker), wf_(wf), limits_(limits) {}

  void build(const Node& root);

 private:
  // workflow level (builder.cpp)
  void parseInputs(const Node& n);
  std::optional<TypeSpec> parseType(const Node& n, const std::string& what, int depth);
  void parseTriggers(const Node& n);
  void parseOutputs(const Node& n);
  void parseSensitive(const Node& n, bool declassify);

  // steps (steps.cpp)
  std::vector<StepIndex> parseStepList(const Node& list, std::optional<StepIndex> parent, const std::string& what);
  std::optional<StepIndex> parseStep(const Node& n, std::optional<StepIndex> parent);
  void reportMissingKind(const Node& n, const std::string& what);
  void parseCommon(const Node& n, Step& s, StepIndex self);
  void parseKind(std::string_view kind, const Node& n, Step& s, StepIndex self);
  void parseDecide(const Node& n, Step& s, StepIndex self);
  void parseApproval(const Node& n, Step& s, StepIndex self);
  void checkScores();  // after the references: it asks what the paths they read are
  std::optional<RetryPolicy> parseRetry(const Node& n, const std::string& what);
  ValueTemplate compileValue(const Node& n, const std::string& what, std::vector<ExprUse>* uses);
  Json compileInto(const Node& n, const std::string& path, const std::string& what,
                   std::vector<ValueTemplate::Slot>& slots, std::vector<ExprUse>* uses, int depth);
  void checkSummaries();
  // The sensitive path a template reads ("" when none), with why, for lines every list shows.
  std::string sensitiveReadBy(const Template& t) const;
  void deriveSensitive();
  void addTemplateUses(const Template& t, const OffsetMap& where, const std::string& what, std::vector<ExprUse>* uses);

  // references (references.cpp)
  void checkReferences();
  struct Visible;
  void walk(const std::vector<StepIndex>& list, Visible& v);
  void checkUse(const ExprUse& use, const Visible& v, Scope scope, std::optional<StepIndex> at);
  void addCompleted(StepIndex s, Visible& v) const;
  bool insideForeach(StepIndex s, StepIndex* foreachOut) const;
  void checkStepField(const PathRef& ref, const ExprUse& use, StepIndex target);
  std::string unknownNameHint(const std::string& root, const std::vector<std::string_view>& roots,
                              std::optional<StepIndex> at) const;
  std::string dashedStepId(const ExprUse& use, const PathRef& ref) const;
  std::string notRunReason(StepIndex target, std::optional<StepIndex> at) const;
  // The type a path certainly has when read ("string", "number", "list", "object",
  // "boolean"), as the workflow declares it; "" when it is not known (a connector's result,
  // an input of type any, a `set` value computed by an expression).
  std::string staticType(const PathRef& ref) const;

  Checker& c_;
  Workflow& wf_;
  const LoadLimits& limits_;
  std::vector<std::vector<ExprUse>> stepUses_;      // by StepIndex
  std::vector<std::vector<ExprUse>> onErrorUses_;   // handler-time uses, by StepIndex
  std::vector<ExprUse> outputUses_;
  std::vector<ExprUse> referenceUses_;
  std::vector<ExprUse> sensitiveUses_;
  std::vector<ExprUse> scoreUses_;  // decide rules' expression scores (also in stepUses_)
  std::map<std::string, StepIndex> ids_;
  std::map<std::string, std::set<std::string>> setKeys_;  // set step -> keys it sets
  std::map<StepIndex, std::vector<std::string>> foreachBindings_;  // foreach -> bound names
};

}  // namespace vigil::loader

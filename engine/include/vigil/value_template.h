// ValueTemplate: a JSON value from YAML (a step's `with`, `set`, or `call` inputs) whose
// strings may hold `${{ }}` expressions. Compiled once at load; evaluate() copies the
// literal and fills in each expression. Immutable, thread-safe to evaluate.
#pragma once

#include <string>
#include <vector>

#include "vigil/expr.h"

namespace vigil {

class ValueTemplate {
 public:
  struct Slot {
    Json::json_pointer where;
    Template tmpl;
  };

  ValueTemplate() = default;
  ValueTemplate(Json literal, std::vector<Slot> slots) : literal_(std::move(literal)), slots_(std::move(slots)) {}

  const Json& literal() const { return literal_; }
  const std::vector<Slot>& slots() const { return slots_; }
  // Fails with the first expression error, prefixed by the JSON path of its slot.
  Result<Json> evaluate(const EvalContext& ctx) const;

 private:
  Json literal_;
  std::vector<Slot> slots_;
};

}  // namespace vigil

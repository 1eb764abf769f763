// Internal: the evaluator's value and error types, shared by eval.cpp and functions.cpp.
#pragma once

#include "program.h"

namespace vigil::expr_detail {

// A value during evaluation: borrowed from the bindings when it is a path, owned otherwise,
// so reading steps.x.output.y never copies the whole step output.
class Value {
 public:
  Value() = default;
  static Value ref(const Json* j) { Value v; v.ref_ = j; return v; }
  static Value own(Json j) { Value v; v.owned_ = std::move(j); return v; }
  bool borrowed() const { return ref_ != nullptr; }
  const Json& get() const { return ref_ != nullptr ? *ref_ : owned_; }
  Json take() && { return ref_ != nullptr ? *ref_ : std::move(owned_); }

 private:
  const Json* ref_ = nullptr;
  Json owned_;
};

struct EvalFailure {
  std::string message;  // already carries " at col N"
};

class Evaluator {
 public:
  Evaluator(const Program& p, const EvalContext& ctx) : p_(p), ctx_(ctx) {}
  Value eval(uint32_t idx);

  [[noreturn]] void fail(uint32_t offset, std::string msg) const { throw EvalFailure{at(std::move(msg), offset)}; }
  const EvalContext& ctx() const { return ctx_; }
  const Program& program() const { return p_; }
  void checkSize(const Json& v, uint32_t offset) const;

 private:
  Value binary(const Node& n);
  Value call(const Node& n);
  bool truthy(const Value& v, uint32_t offset, const char* what);

  const Program& p_;
  const EvalContext& ctx_;
  long steps_ = 0;
};

// Numbers: JSON integers are exact, but an unsigned integer above LLONG_MAX (possible in
// bindings, never in expression text) does not fit the evaluator's long long arithmetic,
// so it counts as a float there. Implemented in eval.cpp.
bool isInt(const Json& v);
// Orders two numbers exactly (integers without a round trip through double): -1, 0 or 1.
int compareNumbers(const Json& a, const Json& b);

// Implemented in functions.cpp.
Value callFunction(Evaluator& ev, const Node& n, std::vector<Value>& args);
bool jsonEqual(const Json& a, const Json& b);
std::string renderText(const Json& v);

}  // namespace vigil::expr_detail

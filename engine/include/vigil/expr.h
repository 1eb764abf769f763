// The expression language: small, safe, deterministic, bounded.
//
//   steps.pnd.output.markers, inputs.referral["child"].name, items[0]   paths and indexing
//   1, 2.5, 'text', "text", true, false, null, [1, 2]                    literals
//   + - * / %   == != < <= > >=   && || !   in   a ? b : c                operators
//   len lower upper trim contains startsWith endsWith matches now ...    fixed functions
//
// An Expression is parsed once (when a workflow loads) and evaluated many times; it is
// immutable and safe to evaluate from many threads at once. Evaluation never performs I/O
// and never throws: type errors, limits and bad arguments come back as a Status whose
// message names the problem and its column ("cannot compare string with number at col 14").
// Full reference: docs/EXPRESSIONS.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/area.h"
#include "vigil/clock.h"
#include "vigil/status.h"

namespace vigil {

using Json = nlohmann::json;

struct ExprLimits {
  size_t maxLength = 4096;         // characters in one expression
  int maxDepth = 48;               // nesting of operators, calls, brackets
  long maxSteps = 100000;          // node evaluations per evaluate() call
  size_t maxValueBytes = 1 << 20;  // size of any string or array built during evaluation
};

// A parse error: `offset` is the 0-based character offset inside the expression text.
struct ExprError {
  size_t offset = 0;
  std::string message;
  std::string toString() const;  // "MESSAGE at col N"
};

// A statically known path in an expression, for the validator: `steps.pnd.output.x` gives
// segments {"steps", "pnd", "output", "x"}; it stops at the first computed index.
struct PathRef {
  size_t offset = 0;  // of the root identifier
  std::vector<std::string> segments;
  std::vector<size_t> segmentOffsets;
};

// A calendar or timescale named by a literal argument (`sla_deadline('mash', ...)`), so
// publication can check that the area has it.
struct AreaNameRef {
  enum class Kind { kCalendar, kTimescale };
  Kind kind = Kind::kCalendar;
  std::string name;
  size_t offset = 0;  // of the literal
};

// Names visible to an expression (inputs, steps, item, ...). Implementations return
// nullptr for an unknown name; the returned pointer must outlive the evaluate() call.
class Bindings {
 public:
  virtual ~Bindings() = default;
  virtual const Json* lookup(std::string_view name) const = 0;
};

// Bindings over the keys of one JSON object.
class JsonBindings final : public Bindings {
 public:
  explicit JsonBindings(const Json& object) : object_(object) {}
  const Json* lookup(std::string_view name) const override;

 private:
  const Json& object_;
};

struct EvalContext {
  const Bindings* bindings = nullptr;
  TimePoint now{};                             // what now() returns: recorded run time
  const Area* area = nullptr;   // calendars and timescales; the built-in calendar if null
};

namespace expr_detail { struct Program; }

class Expression {
 public:
  static std::variant<Expression, ExprError> parse(std::string_view text,
                                                   const ExprLimits& limits = {});

  const std::string& text() const;
  const std::vector<PathRef>& paths() const;
  const std::vector<AreaNameRef>& areaNames() const;
  Result<Json> evaluate(const EvalContext& ctx) const;

 private:
  explicit Expression(std::shared_ptr<const expr_detail::Program> p) : program_(std::move(p)) {}
  std::shared_ptr<const expr_detail::Program> program_;
};

// A string that may contain `${{ expr }}` parts. When the whole string is one `${{ }}`,
// evaluate() returns the expression's value with its type; otherwise the parts are
// rendered as text and concatenated (null renders as "", strings as themselves, other
// values as compact JSON).
class Template {
 public:
  struct Part {
    std::string literal;              // used when !expr
    std::shared_ptr<Expression> expr;
    size_t offset = 0;                // offset of the expression text in the template
  };

  // Errors carry offsets into the template string.
  static std::variant<Template, ExprError> parse(std::string_view text,
                                                 const ExprLimits& limits = {});
  static bool hasExpressions(std::string_view text);

  bool isSingleExpression() const { return parts_.size() == 1 && parts_[0].expr; }
  const std::vector<Part>& parts() const { return parts_; }
  Result<Json> evaluate(const EvalContext& ctx) const;

 private:
  std::vector<Part> parts_;
};

}  // namespace vigil

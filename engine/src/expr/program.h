// Internal: the parsed form of an expression, a flat array of nodes addressed by index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "regex.h"
#include "vigil/expr.h"

namespace vigil::expr_detail {

enum class NodeKind : uint8_t {
  kLiteral,   // value
  kArray,     // args: elements
  kName,      // name: a root binding
  kMember,    // a.name: args[0] = object, name = field
  kIndex,     // a[b]: args = {object, index}
  kUnary,     // op, args[0]
  kBinary,    // op, args = {lhs, rhs}
  kAnd,       // short-circuit
  kOr,        // short-circuit
  kCond,      // args = {cond, then, else}
  kCall,      // fn, args
};

enum class Op : uint8_t { kNone, kNot, kNeg, kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe,
                          kGt, kGe, kIn };

enum class Fn : uint8_t;

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  Op op = Op::kNone;
  Fn fn{};
  uint32_t offset = 0;
  std::vector<uint32_t> args;
  std::string name;
  Json value;
  Regex regex;  // matches() with a literal pattern, compiled once
};

struct Program {
  std::string text;
  std::vector<Node> nodes;
  uint32_t root = 0;
  std::vector<PathRef> paths;
  std::vector<AreaNameRef> areaNames;
  ExprLimits limits;
};

// Functions: the fixed set, with their arity. Defined in functions.cpp.
enum class Fn : uint8_t {
  kLen, kLower, kUpper, kTrim, kContains, kStartsWith, kEndsWith, kMatches, kNow, kDuration,
  kTimeAdd, kTimeDiff, kDate, kDaysBetween, kWorkingDaysAfter, kIsWorkingDay, kNextOpening, kWorkingTimeAdd, kSlaDeadline, kTimescale, kDefault,
  kString, kNumber, kMin, kMax, kSum, kRound, kAbs, kJoin, kSplit, kKeys, kCount, kPersonSearchKeys, kPersonMatch,
};

struct FnInfo {
  const char* name;
  Fn fn;
  int minArgs;
  int maxArgs;  // -1: variadic
};

const FnInfo* findFunction(std::string_view name);

// Parses `text`; the error offset is inside `text`.
std::variant<std::shared_ptr<Program>, ExprError> parseProgram(std::string_view text,
                                                               const ExprLimits& limits);

const char* typeName(const Json& v);

// Error text with the 1-based column appended.
std::string at(std::string msg, uint32_t offset);

}  // namespace vigil::expr_detail

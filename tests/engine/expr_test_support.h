// Shared by the expression tests: the bindings, calendar and clock they evaluate against,
// and table-row checkers. Everything here is inline so each test file can include it.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "vigil/calendar.h"
#include "vigil/clock.h"
#include "vigil/expr.h"

namespace exprtest {

using vigil::EvalContext;
using vigil::ExprError;
using vigil::ExprLimits;
using vigil::Expression;
using vigil::Json;
using vigil::JsonBindings;
using vigil::Status;
using vigil::Template;


// One row: an expression and its value written as JSON. Values are compared by their JSON
// text, so 3 and 3.0 differ: the tables pin whether a result is an integer or a float.
struct ValueCase {
  const char* expr;
  const char* json;
};

// One row: an expression that parses but fails to evaluate, and the exact message.
struct EvalErrorCase {
  const char* expr;
  const char* message;
};

// One row: text that does not parse, the 0-based offset and the message.
struct ParseErrorCase {
  std::string text;
  size_t offset;
  const char* message;
};

inline const Json& bindingsJson() {
  static const Json j = Json::parse(R"json({
    "inputs": {
      "name": "Alice Smith",
      "names": "abc",
      "age": 15,
      "score": 2.5,
      "flag": true,
      "nothing": null,
      "key": "name",
      "padded": "  hi \t\n",
      "csv": "a,b,,c",
      "pattern": "^Al",
      "badpattern": "([a",
      "tags": ["urgent", "dv", "school"],
      "child": {"name": "Sam", "dob": "2012-05-01"},
      "nested": {"a": {"b": {"c": 42}}},
      "big": 18446744073709551615,
      "max": 9223372036854775807,
      "min": -9223372036854775808
    },
    "steps": {"pnd": {"output": {"markers": ["neglect", "dv"], "found": true, "record": {"id": 7}}}},
    "items": [10, 20, 30],
    "item": {"x": 1}
  })json");
  return j;
}

inline const vigil::Area& holidays() {
  // Christmas Day 2026 is a Friday; Boxing Day falls on a Saturday, so Monday 28th is off.
  static const vigil::Area area = [] {
    vigil::Area a;
    a.calendars["office"] = vigil::Calendar::fromDates({"2026-12-25", "2026-12-28"}).value();
    a.defaultCalendar = "office";
    return a;
  }();
  return area;
}

inline vigil::TimePoint timeOf(const char* text) {
  auto t = vigil::parseTime(text);
  REQUIRE(t.has_value());
  return *t;
}

// Bindings over bindingsJson(), now() = 2026-11-26T09:30:00.250Z (a Thursday), and the
// holiday calendar above.
struct Env {
  JsonBindings bindings{bindingsJson()};
  EvalContext ctx;
  Env() {
    ctx.bindings = &bindings;
    ctx.now = timeOf("2026-11-26T09:30:00.250Z");
    ctx.area = &holidays();
  }
};

inline Expression parseOk(std::string_view text, const ExprLimits& limits = {}) {
  auto parsed = Expression::parse(text, limits);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    FAIL("unexpected parse error: " << err->toString());
  }
  return std::get<Expression>(std::move(parsed));
}

inline vigil::Result<Json> evalText(std::string_view text, const EvalContext& ctx, const ExprLimits& limits = {}) {
  return parseOk(text, limits).evaluate(ctx);
}

inline void checkValue(const ValueCase& c, const EvalContext& ctx, const ExprLimits& limits = {}) {
  INFO("expression: " << c.expr);
  auto r = evalText(c.expr, ctx, limits);
  if (!r) {
    FAIL("unexpected evaluation error: " << r.status().message());
  }
  CHECK(r.value().dump() == Json::parse(c.json).dump());
}

inline void checkEvalError(const EvalErrorCase& c, const EvalContext& ctx, const ExprLimits& limits = {}) {
  INFO("expression: " << c.expr);
  auto r = evalText(c.expr, ctx, limits);
  if (r) {
    FAIL("expected an error, got " << r.value().dump());
  }
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == c.message);
}

inline void checkParseError(const ParseErrorCase& c, const ExprLimits& limits = {}) {
  INFO("expression: " << (c.text.size() > 80 ? c.text.substr(0, 80) + "..." : c.text));
  auto parsed = Expression::parse(c.text, limits);
  auto* err = std::get_if<ExprError>(&parsed);
  REQUIRE(err != nullptr);
  CHECK(err->message == c.message);
  CHECK(err->offset == c.offset);
}

inline std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) {
    out += s;
  }
  return out;
}

}  // namespace exprtest

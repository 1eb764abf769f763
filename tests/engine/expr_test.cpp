// The expression language (engine/src/expr): values, operators, functions, errors with their
// exact messages and columns, limits, `${{ }}` templates and the paths the validator reads.
// Nearly every case is one row of a table; the tables are walked with GENERATE.
#include <catch2/catch.hpp>

#include <chrono>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "vigil/calendar.h"
#include "vigil/clock.h"
#include "vigil/expr.h"

using vigil::EvalContext;
using vigil::ExprError;
using vigil::ExprLimits;
using vigil::Expression;
using vigil::Json;
using vigil::JsonBindings;
using vigil::Status;
using vigil::Template;

namespace {

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

const Json& bindingsJson() {
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

const vigil::HolidayCalendar& holidays() {
  // Christmas Day 2026 is a Friday; Boxing Day falls on a Saturday, so Monday 28th is off.
  static const vigil::HolidayCalendar cal = vigil::HolidayCalendar::fromDates({"2026-12-25", "2026-12-28"}).value();
  return cal;
}

vigil::TimePoint timeOf(const char* text) {
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
    ctx.calendar = &holidays();
  }
};

Expression parseOk(std::string_view text, const ExprLimits& limits = {}) {
  auto parsed = Expression::parse(text, limits);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    FAIL("unexpected parse error: " << err->toString());
  }
  return std::get<Expression>(std::move(parsed));
}

vigil::Result<Json> evalText(std::string_view text, const EvalContext& ctx, const ExprLimits& limits = {}) {
  return parseOk(text, limits).evaluate(ctx);
}

void checkValue(const ValueCase& c, const EvalContext& ctx, const ExprLimits& limits = {}) {
  INFO("expression: " << c.expr);
  auto r = evalText(c.expr, ctx, limits);
  if (!r) {
    FAIL("unexpected evaluation error: " << r.status().message());
  }
  CHECK(r.value().dump() == Json::parse(c.json).dump());
}

void checkEvalError(const EvalErrorCase& c, const EvalContext& ctx, const ExprLimits& limits = {}) {
  INFO("expression: " << c.expr);
  auto r = evalText(c.expr, ctx, limits);
  if (r) {
    FAIL("expected an error, got " << r.value().dump());
  }
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == c.message);
}

void checkParseError(const ParseErrorCase& c, const ExprLimits& limits = {}) {
  INFO("expression: " << (c.text.size() > 80 ? c.text.substr(0, 80) + "..." : c.text));
  auto parsed = Expression::parse(c.text, limits);
  auto* err = std::get_if<ExprError>(&parsed);
  REQUIRE(err != nullptr);
  CHECK(err->message == c.message);
  CHECK(err->offset == c.offset);
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) {
    out += s;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Values

TEST_CASE("literals evaluate to their JSON values", "[expr][literals]") {
  static const ValueCase kCases[] = {
      {"1", "1"},
      {"0", "0"},
      {"  42  ", "42"},
      {"2.5", "2.5"},
      {"1e3", "1000.0"},
      {"1.5e-1", "0.15"},
      {"2E2", "200.0"},
      {"9223372036854775807", "9223372036854775807"},
      {"99999999999999999999", "1e20"},  // too big for an integer: read as a float
      {"'text'", "\"text\""},
      {"\"text\"", "\"text\""},
      {"''", "\"\""},
      {"'it\\'s'", "\"it's\""},
      {"\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\""},
      {"\"a'b\"", "\"a'b\""},
      {"'a\\nb'", "\"a\\nb\""},
      {"'tab\\there'", "\"tab\\there\""},
      {"'back\\\\slash'", "\"back\\\\slash\""},
      {"'\xc3\xa9t\xc3\xa9'", "\"\xc3\xa9t\xc3\xa9\""},
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {"[]", "[]"},
      {"[1, 'a', null, true, 2.5]", "[1, \"a\", null, true, 2.5]"},
      {"[[1, 2], [3]]", "[[1, 2], [3]]"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("paths read the bindings, and a missing field or a field of null is null", "[expr][paths]") {
  static const ValueCase kCases[] = {
      {"inputs.name", "\"Alice Smith\""},
      {"inputs.age", "15"},
      {"inputs.child.name", "\"Sam\""},
      {"inputs[\"child\"][\"name\"]", "\"Sam\""},
      {"inputs['child'].dob", "\"2012-05-01\""},
      {"inputs[inputs.key]", "\"Alice Smith\""},
      {"inputs.nested.a.b.c", "42"},
      {"inputs.nested['a']['b']['c']", "42"},
      {"steps.pnd.output.markers", "[\"neglect\", \"dv\"]"},
      {"steps.pnd.output.record.id", "7"},
      {"items", "[10, 20, 30]"},
      {"item.x", "1"},
      {"(inputs).age", "15"},
      {"inputs.missing", "null"},
      {"inputs['no such key']", "null"},
      {"inputs.missing.deeper.still", "null"},
      {"inputs.nothing.x", "null"},
      {"inputs.nothing['x']", "null"},
      {"inputs.nothing[0]", "null"},
      {"steps.other.output.x", "null"},
      {"[inputs.age, inputs.child.name]", "[15, \"Sam\"]"},
      {"[inputs.child][0].name", "\"Sam\""},
      {"(true ? inputs.child : null).dob", "\"2012-05-01\""},
      {"inputs.big", "18446744073709551615"},
      {"inputs.min", "-9223372036854775808"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("list indexes count from the end when negative and give null out of range", "[expr][index]") {
  static const ValueCase kCases[] = {
      {"items[0]", "10"},
      {"items[2]", "30"},
      {"items[-1]", "30"},
      {"items[-3]", "10"},
      {"items[3]", "null"},
      {"items[-4]", "null"},
      {"items[100]", "null"},
      {"items[-9223372036854775807 - 1]", "null"},
      {"items[inputs.big]", "null"},  // an unsigned index beyond any list
      {"items[1 + 1]", "30"},
      {"[1, 2, 3][-2]", "2"},
      {"[][0]", "null"},
      {"[][-1]", "null"},
      {"inputs.tags[0]", "\"urgent\""},
      {"inputs.tags[-1]", "\"school\""},
      {"[[1, 2], [3, 4]][1][0]", "3"},
      {"steps.pnd.output.markers[len(steps.pnd.output.markers) - 1]", "\"dv\""},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("operators bind by precedence and associate to the left", "[expr][operators]") {
  static const ValueCase kCases[] = {
      {"1 + 2 * 3", "7"},
      {"(1 + 2) * 3", "9"},
      {"10 - 4 - 3", "3"},
      {"100 / 10 / 5", "2"},
      {"2 * 3 % 4", "2"},
      {"-2 * 3", "-6"},
      {"-(2 + 3)", "-5"},
      {"--4", "4"},
      {"1 - -1", "2"},
      {"2 * -3", "-6"},
      {"-items[0]", "-10"},
      {"!true", "false"},
      {"!!true", "true"},
      {"!(1 > 2)", "true"},
      {"!false && true", "true"},
      {"true || false && false", "true"},
      {"(true || false) && false", "false"},
      {"1 < 2 == true", "true"},
      {"1 == 1 == true", "true"},
      {"2 in [1, 2] == true", "true"},
      {"'a' + 'b' in 'xaby'", "true"},
      {"1 + 1 == 2 && 2 * 2 == 4", "true"},
      {"1 + 2 > 2 ? 'big' : 'small'", "\"big\""},
      {"true ? 1 : 2", "1"},
      {"false ? 1 : 2", "2"},
      {"false ? 1 : true ? 2 : 3", "2"},
      {"true ? false ? 1 : 2 : 3", "2"},
      {"inputs.age >= 13 && inputs.age < 18", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("arithmetic keeps integers exact and uses floats when it must", "[expr][arithmetic]") {
  static const ValueCase kCases[] = {
      {"1 + 1", "2"},
      {"7 / 2", "3.5"},
      {"6 / 2", "3"},
      {"-7 / 2", "-3.5"},
      {"6 / 4.0", "1.5"},
      {"3 / 1.5", "2.0"},
      {"1 / 3", "0.3333333333333333"},
      {"1.5 + 1.5", "3.0"},
      {"2 * 2.5", "5.0"},
      {"10 - 2.5", "7.5"},
      {"0.1 + 0.2", "0.30000000000000004"},
      {"7 % 3", "1"},
      {"-7 % 3", "-1"},
      {"7 % -3", "1"},
      {"7 % -1", "0"},
      {"7.5 % 2", "1.5"},
      {"inputs.score * 2", "5.0"},
      {"9223372036854775807 - 1", "9223372036854775806"},
      {"-9223372036854775807 - 1", "-9223372036854775808"},
      {"inputs.big + 0", "1.8446744073709552e19"},  // beyond long long: a float
      {"-inputs.big", "-1.8446744073709552e19"},
      {"'ab' + 'cd'", "\"abcd\""},
      {"[1] + [2, 3]", "[1, 2, 3]"},
      {"[] + []", "[]"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("comparison and equality", "[expr][compare]") {
  static const ValueCase kCases[] = {
      {"1 < 2", "true"},
      {"2 <= 2", "true"},
      {"3 > 2.5", "true"},
      {"2 >= 3", "false"},
      {"'apple' < 'banana'", "true"},
      {"'a' < 'B'", "false"},  // byte order: upper case sorts first
      {"'abc' <= 'abc'", "true"},
      {"1 == 1.0", "true"},
      {"1 == '1'", "false"},
      {"true == 1", "false"},
      {"null == null", "true"},
      {"inputs.missing == null", "true"},
      {"[1, [2]] == [1, [2]]", "true"},
      {"[1, 2] != [2, 1]", "true"},
      {"inputs.child == inputs.child", "true"},
      {"steps.pnd.output.record == inputs.child", "false"},
      {"inputs.max == 9223372036854775807", "true"},
      {"inputs.min < -9223372036854775807", "true"},
      {"inputs.big == -1", "false"},
      {"inputs.big > inputs.max", "true"},
      {"inputs.big > 0", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("'in' tests lists by equality, strings by substring and objects by key", "[expr][in]") {
  static const ValueCase kCases[] = {
      {"'dv' in inputs.tags", "true"},
      {"'x' in inputs.tags", "false"},
      {"1 in [1.0, 2]", "true"},
      {"[1] in [[1], [2]]", "true"},
      {"null in [null]", "true"},
      {"'z' in []", "false"},
      {"inputs.big in [-1]", "false"},
      {"'lic' in 'Alice'", "true"},
      {"'' in 'abc'", "true"},
      {"'LIC' in 'Alice'", "false"},
      {"'name' in inputs.child", "true"},
      {"'age' in inputs.child", "false"},
      {"'Sam' in inputs.child", "false"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("&&, || and ?: do not evaluate the side they skip", "[expr][logic]") {
  // Every skipped side would fail if it were evaluated (an unknown name, a division by zero,
  // a bad argument).
  static const ValueCase kCases[] = {
      {"true && true", "true"},
      {"true && false", "false"},
      {"false || false", "false"},
      {"false || true", "true"},
      {"false && unknown_name", "false"},
      {"true || unknown_name", "true"},
      {"false && 1 / 0 == 1", "false"},
      {"true || len(5) == 1", "true"},
      {"false && 'not a boolean'", "false"},
      {"true || 42", "true"},
      {"true ? 1 : unknown_name", "1"},
      {"false ? unknown_name : 2", "2"},
      {"inputs.flag ? 'yes' : 1 / 0", "\"yes\""},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("a skipped side costs no evaluation steps", "[expr][logic][limits]") {
  Env env;
  ExprLimits limits;
  limits.maxSteps = 3;  // the && node, `false`, and nothing else
  checkValue({"false && (1 + 2 + 3 + 4 + 5 == 15)", "false"}, env.ctx, limits);
  checkValue({"true || (1 + 2 + 3 + 4 + 5 == 15)", "true"}, env.ctx, limits);
  checkEvalError({"true && (1 + 2 + 3 + 4 + 5 == 15)", "evaluation exceeded 3 steps at col 24"}, env.ctx, limits);
}

// ---------------------------------------------------------------------------------------------
// Functions

TEST_CASE("string functions", "[expr][functions]") {
  static const ValueCase kCases[] = {
      {"len('hello')", "5"},
      {"len('h\xc3\xa9llo')", "5"},  // characters, not bytes
      {"len('')", "0"},
      {"len(inputs.tags)", "3"},
      {"len([])", "0"},
      {"len(inputs.child)", "2"},
      {"len(null)", "0"},
      {"len(inputs.missing)", "0"},
      {"lower('HeLLo')", "\"hello\""},
      {"upper('abc1')", "\"ABC1\""},
      {"lower('\xc3\x80" "B')", "\"\xc3\x80" "b\""},  // ASCII letters only
      {"trim(inputs.padded)", "\"hi\""},
      {"trim('   ')", "\"\""},
      {"trim('a b')", "\"a b\""},
      {"contains('hello', 'ell')", "true"},
      {"contains('hello', 'xyz')", "false"},
      {"contains(inputs.tags, 'dv')", "true"},
      {"contains([1, 2], 2.0)", "true"},
      {"contains(null, 'x')", "false"},
      {"contains(inputs.missing, 'x')", "false"},
      {"startsWith('safeguard', 'safe')", "true"},
      {"startsWith('safe', 'safeguard')", "false"},
      {"startsWith('abc', '')", "true"},
      {"endsWith('report.pdf', '.pdf')", "true"},
      {"endsWith('a', 'abc')", "false"},
      {"endsWith('abc', '')", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("matches() searches with an ECMAScript regular expression", "[expr][functions][regex]") {
  static const ValueCase kCases[] = {
      {"matches('AB123456C', '^[A-Z]{2}[0-9]{6}[A-Z]$')", "true"},
      {"matches('ab12', '^[0-9]+$')", "false"},
      {"matches('2026-01-05', '^\\\\d{4}-\\\\d{2}-\\\\d{2}$')", "true"},
      {"matches('xabc', 'a|q')", "true"},
      {"matches('abc', '^b')", "false"},
      {"matches('a\\nb', '^b')", "false"},  // ^ and $ match at the ends of the text only
      {"matches('ABC', 'abc')", "false"},
      {"matches('', '')", "true"},
      {"matches(inputs.name, inputs.pattern)", "true"},
      {"matches('Alice', '(?!Bob)Al')", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("time functions use ISO-8601 UTC text and the injected now()", "[expr][functions][time]") {
  static const ValueCase kCases[] = {
      {"now()", "\"2026-11-26T09:30:00.250Z\""},
      {"date(now())", "\"2026-11-26\""},
      {"duration('30s')", "30"},
      {"duration('4h')", "14400"},
      {"duration('1h30m')", "5400"},
      {"duration('1w')", "604800"},
      {"duration('0s')", "0"},
      {"duration('500ms')", "0.5"},
      {"duration('-2d')", "-172800"},
      {"duration('-1500ms')", "-1.5"},
      {"duration(90)", "90"},
      {"duration(1.5)", "1.5"},
      {"duration(-30)", "-30"},
      {"time_add('2026-11-26T09:00:00Z', '4h')", "\"2026-11-26T13:00:00Z\""},
      {"time_add('2026-11-26T09:00:00Z', '-2d')", "\"2026-11-24T09:00:00Z\""},
      {"time_add('2026-11-26T09:00:00Z', '-90m')", "\"2026-11-26T07:30:00Z\""},
      {"time_add('2026-11-26', 3600)", "\"2026-11-26T01:00:00Z\""},
      {"time_add('2026-11-26T09:00:00Z', 0.001)", "\"2026-11-26T09:00:00.001Z\""},
      {"time_add('2026-11-26T09:00:00+01:00', '1h')", "\"2026-11-26T09:00:00Z\""},
      {"time_add('2026-02-28T12:00:00Z', '1d')", "\"2026-03-01T12:00:00Z\""},
      {"time_add('2024-02-28T12:00:00Z', '1d')", "\"2024-02-29T12:00:00Z\""},
      {"time_add(now(), '500ms')", "\"2026-11-26T09:30:00.750Z\""},
      {"time_diff('2026-11-26T10:00:00Z', '2026-11-26T09:00:00Z')", "3600"},
      {"time_diff('2026-11-26T09:00:00Z', '2026-11-26T10:00:00Z')", "-3600"},
      {"time_diff('2026-01-01T00:00:00.500Z', '2026-01-01')", "0.5"},
      {"time_diff(now(), '2026-11-26')", "34200.25"},
      {"time_diff('2026-11-26T09:00:00+01:00', '2026-11-26T08:00:00Z')", "0"},
      {"date('2026-11-26T13:48:51Z')", "\"2026-11-26\""},
      {"date('2026-01-01T23:30:00-05:00')", "\"2026-01-02\""},
      {"date('2026-03-05')", "\"2026-03-05\""},
      {"days_between('2026-01-01', '2026-01-31T23:59:59Z')", "30"},
      {"days_between('2026-01-31', '2026-01-01')", "-30"},
      {"days_between('2024-02-28', '2024-03-01')", "2"},
      {"days_between('2026-11-26T23:59:00Z', '2026-11-27T00:01:00Z')", "1"},
      {"time_diff(time_add(inputs.child.dob, '1d'), inputs.child.dob) == duration('1d')", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("working days skip weekends and the calendar's holidays", "[expr][functions][calendar]") {
  // 2026-11-26 is a Thursday; the calendar has 2026-12-25 (Fri) and 2026-12-28 (Mon) off.
  static const ValueCase kCases[] = {
      {"is_working_day('2026-11-26')", "true"},
      {"is_working_day('2026-11-27T23:59:59Z')", "true"},
      {"is_working_day('2026-11-28')", "false"},
      {"is_working_day('2026-11-29')", "false"},
      {"is_working_day('2026-12-25')", "false"},
      {"is_working_day('2026-12-25T10:00:00Z')", "false"},
      {"is_working_day('2026-12-28')", "false"},
      {"is_working_day(now())", "true"},
      {"working_days_after('2026-11-26', 0)", "\"2026-11-26\""},
      {"working_days_after('2026-11-28', 0)", "\"2026-11-30\""},
      {"working_days_after('2026-11-26', 1)", "\"2026-11-27\""},
      {"working_days_after('2026-11-27', 1)", "\"2026-11-30\""},
      {"working_days_after('2026-11-26', 10)", "\"2026-12-10\""},
      {"working_days_after('2026-12-23', 2)", "\"2026-12-29\""},
      {"working_days_after('2026-12-24T16:00:00Z', 1)", "\"2026-12-29\""},
      {"working_days_after('2026-12-18', 5)", "\"2026-12-29\""},
      {"working_days_after(now(), 2)", "\"2026-11-30\""},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("without a calendar only weekends are off, and now() is the epoch", "[expr][functions][calendar]") {
  JsonBindings bindings(bindingsJson());
  EvalContext ctx;
  ctx.bindings = &bindings;
  static const ValueCase kCases[] = {
      {"is_working_day('2026-12-25')", "true"},
      {"working_days_after('2026-12-24', 1)", "\"2026-12-25\""},
      {"working_days_after('2026-12-25', 1)", "\"2026-12-28\""},
      {"now()", "\"1970-01-01T00:00:00Z\""},
  };
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, ctx);
}

TEST_CASE("conversion, number and list functions", "[expr][functions]") {
  static const ValueCase kCases[] = {
      {"default(inputs.nothing, 'x')", "\"x\""},
      {"default(inputs.missing, 0)", "0"},
      {"default(inputs.age, 0)", "15"},
      {"default(false, true)", "false"},
      {"default('', 'x')", "\"\""},
      {"default(inputs.missing, inputs.child).name", "\"Sam\""},
      {"string(15)", "\"15\""},
      {"string(2.5)", "\"2.5\""},
      {"string(1.0)", "\"1.0\""},
      {"string(true)", "\"true\""},
      {"string(null)", "\"\""},
      {"string('x')", "\"x\""},
      {"string([1, 'a'])", "\"[1,\\\"a\\\"]\""},
      {"string(inputs.child)", "\"{\\\"dob\\\":\\\"2012-05-01\\\",\\\"name\\\":\\\"Sam\\\"}\""},
      {"string(['\xff'])", "\"[\\\"\xef\xbf\xbd\\\"]\""},  // not UTF-8: replaced, not an error
      {"number('42')", "42"},
      {"number('-3')", "-3"},
      {"number('2.5')", "2.5"},
      {"number('1e2')", "100.0"},
      {"number(' 12 ')", "12"},
      {"number(7)", "7"},
      {"min(3, 1, 2)", "1"},
      {"max(3, 1, 2)", "3"},
      {"min([4, 2.5, 3])", "2.5"},
      {"min([7])", "7"},
      {"max(['pear', 'apple'])", "\"pear\""},
      {"min('b', 'a')", "\"a\""},
      {"max(1, 1.0)", "1"},
      {"max(inputs.big, 0)", "18446744073709551615"},
      {"sum([1, 2, 3])", "6"},
      {"sum([1, 2.5])", "3.5"},
      {"sum([])", "0"},
      {"sum(items)", "60"},
      {"round(2.5)", "3"},
      {"round(-2.5)", "-3"},
      {"round(2.4)", "2"},
      {"round(7)", "7"},
      {"round(3.14159, 2)", "3.14"},
      {"round(1e19)", "1e19"},
      {"round(1e300, 12)", "1e300"},
      {"abs(-5)", "5"},
      {"abs(3)", "3"},
      {"abs(-2.5)", "2.5"},
      {"join(['a', 'b', 'c'], ', ')", "\"a, b, c\""},
      {"join([1, 'a', null, true], '-')", "\"1-a--true\""},
      {"join([], ',')", "\"\""},
      {"split(inputs.csv, ',')", "[\"a\", \"b\", \"\", \"c\"]"},
      {"split('', ',')", "[\"\"]"},
      {"split('a::b', '::')", "[\"a\", \"b\"]"},
      {"keys(inputs.child)", "[\"dob\", \"name\"]"},
      {"keys(steps.pnd.output)", "[\"found\", \"markers\", \"record\"]"},
      {"count([1, 2, 1, 1.0], 1)", "3"},
      {"count(inputs.tags, 'x')", "0"},
      {"count([], null)", "0"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

// ---------------------------------------------------------------------------------------------
// Evaluation errors: exact messages, 1-based columns

TEST_CASE("type errors name both types and the operator's column", "[expr][errors]") {
  static const EvalErrorCase kCases[] = {
      {"inputs.names < 3", "cannot compare string with number at col 14"},
      {"inputs.child > 1", "cannot compare object with number at col 14"},
      {"1 > 'a'", "cannot compare number with string at col 3"},
      {"true < false", "cannot compare boolean with boolean at col 6"},
      {"null <= 1", "cannot compare null with number at col 6"},
      {"[1] >= [1]", "cannot compare list with list at col 5"},
      {"1 < 2 < 3", "cannot compare boolean with number at col 7"},
      {"'a' + 1", "cannot add string and number at col 5"},
      {"[1] + 'a'", "cannot add list and string at col 5"},
      {"1 - 'a'", "cannot subtract number and string at col 3"},
      {"[1] * 2", "cannot multiply list and number at col 5"},
      {"null / 2", "cannot divide null and number at col 6"},
      {"true % 2", "cannot take the remainder of boolean and number at col 6"},
      {"-'a'", "cannot negate string at col 1"},
      {"!1", "'!' needs a boolean, got number at col 1"},
      {"1 && true", "'&&' needs a boolean, got number at col 3"},
      {"true && 'yes'", "'&&' needs a boolean, got string at col 6"},
      {"null || true", "'||' needs a boolean, got null at col 6"},
      {"false || 0", "'||' needs a boolean, got number at col 7"},
      {"inputs.age ? 1 : 2", "'?:' condition needs a boolean, got number at col 12"},
      {"'' ? 1 : 2", "'?:' condition needs a boolean, got string at col 4"},
      {"1 in 'abc'", "'in' a string needs a string on the left, got number at col 3"},
      {"1 in inputs.child", "'in' an object needs a string key on the left, got number at col 3"},
      {"1 in 5", "'in' needs a list, string or object on the right, got number at col 3"},
      {"'a' in null", "'in' needs a list, string or object on the right, got null at col 5"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkEvalError(c, env.ctx);
}

TEST_CASE("arithmetic errors: division by zero and overflow", "[expr][errors][arithmetic]") {
  static const EvalErrorCase kCases[] = {
      {"1 / 0", "division by zero at col 3"},
      {"1.5 / 0", "division by zero at col 5"},
      {"1 / 0.0", "division by zero at col 3"},
      {"5 % 0", "division by zero at col 3"},
      {"5.5 % 0.0", "division by zero at col 5"},
      {"9223372036854775807 + 1", "integer overflow at col 21"},
      {"-9223372036854775807 - 2", "integer overflow at col 22"},
      {"9223372036854775807 * 2", "integer overflow at col 21"},
      {"(-9223372036854775807 - 1) / -1", "integer overflow at col 28"},
      {"-(-9223372036854775807 - 1)", "integer overflow at col 1"},
      {"inputs.min - 1", "integer overflow at col 12"},
      {"1e308 * 10", "number out of range at col 7"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkEvalError(c, env.ctx);
}

TEST_CASE("path errors: unknown names, fields of non-objects, bad indexes", "[expr][errors][paths]") {
  static const EvalErrorCase kCases[] = {
      {"nosuch", "unknown name 'nosuch' at col 1"},
      {"1 + x", "unknown name 'x' at col 5"},
      {"inputs.age.x", "cannot read field 'x' of number at col 12"},
      {"inputs.name.first", "cannot read field 'first' of string at col 13"},
      {"inputs.tags.first", "cannot read field 'first' of list at col 13"},
      {"items['a']", "list index must be an integer, got string at col 6"},
      {"items[1.5]", "list index must be an integer, got number at col 6"},
      {"items[null]", "list index must be an integer, got null at col 6"},
      {"inputs.child[0]", "object key must be a string, got number at col 13"},
      {"inputs.name[0]", "cannot index a string; use split() or matches() at col 12"},
      {"inputs.age[0]", "cannot index number at col 11"},
      {"true[0]", "cannot index boolean at col 5"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkEvalError(c, env.ctx);
}

TEST_CASE("functions check their arguments and report the call's column", "[expr][errors][functions]") {
  static const EvalErrorCase kCases[] = {
      {"len(5)", "len(): argument 1 must be a string, list or object, got number at col 1"},
      {"len(true)", "len(): argument 1 must be a string, list or object, got boolean at col 1"},
      {"1 + len(5)", "len(): argument 1 must be a string, list or object, got number at col 5"},
      {"lower(1)", "lower(): argument 1 must be a string, got number at col 1"},
      {"upper(null)", "upper(): argument 1 must be a string, got null at col 1"},
      {"trim([])", "trim(): argument 1 must be a string, got list at col 1"},
      {"contains(5, 'a')", "contains(): argument 1 must be a string or list, got number at col 1"},
      {"contains('abc', 1)", "contains(): argument 2 must be a string, got number at col 1"},
      {"startsWith(1, 'a')", "startsWith(): argument 1 must be a string, got number at col 1"},
      {"endsWith('a', null)", "endsWith(): argument 2 must be a string, got null at col 1"},
      {"matches(1, 'a')", "matches(): argument 1 must be a string, got number at col 1"},
      {"matches('a', inputs.age)", "matches(): argument 2 must be a string, got number at col 1"},
      {"matches('a', inputs.badpattern)", "matches(): pattern is not a valid regular expression at col 1"},
      {"duration('abc')", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration('-')", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration('--2d')", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration('400d')", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(inputs.name)", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(true)", "duration(): argument 1 must be a duration (string or seconds), got boolean at col 1"},
      {"duration(1e12)", "duration(): duration out of range at col 1"},
      {"time_add('yesterday', '1h')", "time_add(): argument 1 is not an ISO-8601 time at col 1"},
      {"time_add('2026-11-26T09:00:00', '1h')", "time_add(): argument 1 is not an ISO-8601 time at col 1"},
      {"time_add('2026-11-26', 'soon')", "time_add(): argument 2 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"time_add(5, '1h')", "time_add(): argument 1 must be a string, got number at col 1"},
      {"time_add('0000-01-01', '-2d')", "time_add(): result outside the years 0000 to 9999 at col 1"},
      {"time_add('9999-12-31T23:00:00Z', '1h')", "time_add(): result outside the years 0000 to 9999 at col 1"},
      {"time_add('x', 'y')", "time_add(): argument 1 is not an ISO-8601 time at col 1"},  // the first bad one
      {"time_diff(1, 2)", "time_diff(): argument 1 must be a string, got number at col 1"},
      {"days_between('x', 'y')", "days_between(): argument 1 is not an ISO-8601 time at col 1"},
      {"time_diff('2026-11-26', 5)", "time_diff(): argument 2 must be a string, got number at col 1"},
      {"time_diff('2026-13-01', '2026-11-26')", "time_diff(): argument 1 is not an ISO-8601 time at col 1"},
      {"date('2026-02-30')", "date(): argument 1 is not an ISO-8601 time at col 1"},
      {"days_between('2026-01-01', null)", "days_between(): argument 2 must be a string, got null at col 1"},
      {"working_days_after('2026-11-26', 1.5)", "working_days_after(): argument 2 must be an integer, got number at col 1"},
      {"working_days_after('2026-11-26', -1)", "working_days_after(): day count must be between 0 and 3660 at col 1"},
      {"working_days_after('2026-11-26', 3661)", "working_days_after(): day count must be between 0 and 3660 at col 1"},
      {"working_days_after('soon', 1)", "working_days_after(): argument 1 is not an ISO-8601 time at col 1"},
      {"is_working_day(20261126)", "is_working_day(): argument 1 must be a string, got number at col 1"},
      {"number('abc')", "number(): argument 1 is not a number such as '42' or '-2.5' at col 1"},
      {"number('12abc')", "number(): argument 1 is not a number such as '42' or '-2.5' at col 1"},
      {"number('[1]')", "number(): argument 1 is not a number such as '42' or '-2.5' at col 1"},
      {"number('')", "number(): argument 1 is not a number such as '42' or '-2.5' at col 1"},
      {"number(inputs.name)", "number(): argument 1 is not a number such as '42' or '-2.5' at col 1"},  // no value quoted
      {"number(true)", "number(): argument 1 must be a string or number, got boolean at col 1"},
      {"min([])", "min(): needs at least one value at col 1"},
      {"min(5)", "min(): argument 1 must be a list, got number at col 1"},
      {"max(1, 'a')", "max(): cannot compare string with number at col 1"},
      {"min([null])", "min(): cannot order null at col 1"},
      {"max([1, null])", "max(): cannot compare null with number at col 1"},
      {"sum([1, 'a'])", "sum(): cannot add string at col 1"},
      {"sum('abc')", "sum(): argument 1 must be a list, got string at col 1"},
      {"sum([9223372036854775807, 1])", "sum(): integer overflow at col 1"},
      {"sum([1e308, 1e308])", "sum(): number out of range at col 1"},
      {"round('a')", "round(): argument 1 must be a number, got string at col 1"},
      {"round(1.5, 1.5)", "round(): argument 2 must be an integer, got number at col 1"},
      {"round(1.5, 13)", "round(): places must be between 0 and 12 at col 1"},
      {"round(1.5, -1)", "round(): places must be between 0 and 12 at col 1"},
      {"abs('a')", "abs(): argument 1 must be a number, got string at col 1"},
      {"abs(inputs.min)", "abs(): integer overflow at col 1"},
      {"join('a', ',')", "join(): argument 1 must be a list, got string at col 1"},
      {"join(1, 2)", "join(): argument 1 must be a list, got number at col 1"},
      {"join(['a'], 1)", "join(): argument 2 must be a string, got number at col 1"},
      {"split('a,b', '')", "split(): separator must not be empty at col 1"},
      {"split(1, ',')", "split(): argument 1 must be a string, got number at col 1"},
      {"keys([1])", "keys(): argument 1 must be an object, got list at col 1"},
      {"count('abc', 'a')", "count(): argument 1 must be a list, got string at col 1"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkEvalError(c, env.ctx);
}

TEST_CASE("evaluation without bindings reports unknown names, never throws", "[expr][errors]") {
  EvalContext none;
  checkEvalError({"inputs.age", "unknown name 'inputs' at col 1"}, none);
  Json notAnObject = Json::array({1, 2});
  JsonBindings bindings(notAnObject);
  EvalContext ctx;
  ctx.bindings = &bindings;
  checkEvalError({"x", "unknown name 'x' at col 1"}, ctx);
  checkValue({"1 + 1", "2"}, none);
}

// ---------------------------------------------------------------------------------------------
// Parse errors: exact 0-based offsets

TEST_CASE("parse errors carry the offset and a message", "[expr][parse][errors]") {
  static const ParseErrorCase kCases[] = {
      {"", 0, "empty expression"},
      {"   ", 0, "empty expression"},
      {"1 +", 3, "unexpected end of expression"},
      {"'abc", 0, "unterminated string"},
      {"x + \"abc", 4, "unterminated string"},
      {"'abc\\", 0, "unterminated string"},
      {"'a\\qb'", 2, "unknown escape '\\q' in string"},
      {"a = 1", 2, "unexpected '=': use '==' to compare"},
      {"a === b", 4, "unexpected '=': use '==' to compare"},
      {"a & b", 2, "unexpected '&': use '&&'"},
      {"a | b", 2, "unexpected '|': use '||'"},
      {"a # b", 2, "unexpected character '#'"},
      {"{}", 0, "unexpected character '{'"},
      {"a;", 1, "unexpected character ';'"},
      {"x\x01", 1, "unexpected character (byte 0x01)"},
      {"\xc3\xa9", 0, "unexpected character (byte 0xc3)"},
      {"12abc", 2, "unexpected 'a' after a number"},
      {"1e", 1, "unexpected 'e' after a number"},
      {"1e999", 0, "number out of range"},
      {"1 2", 2, "unexpected '2' after the end of the expression"},
      {"a b", 2, "unexpected 'b' after the end of the expression"},
      {"(1))", 3, "unexpected ')' after the end of the expression"},
      {"foo(1)", 0, "unknown function 'foo'"},
      {"x + Len('a')", 4, "unknown function 'Len'"},
      {"len()", 0, "len() takes 1 argument, got 0"},
      {"len('a', 'b')", 0, "len() takes 1 argument, got 2"},
      {"contains('a')", 0, "contains() takes 2 arguments, got 1"},
      {"now(1)", 0, "now() takes 0 arguments, got 1"},
      {"round()", 0, "round() takes 1 to 2 arguments, got 0"},
      {"round(1, 2, 3)", 0, "round() takes 1 to 2 arguments, got 3"},
      {"min()", 0, "min() takes at least 1 argument, got 0"},
      {"1 + default(1)", 4, "default() takes 2 arguments, got 1"},
      {"(1 + 2", 6, "expected ')' to close '(', found end of expression"},
      {"[1, 2", 5, "expected ']' to close the list, found end of expression"},
      {"[1, 2,]", 6, "unexpected ']'"},
      {"items[0", 7, "expected ']' to close the index, found end of expression"},
      {"len('a'", 7, "expected ')' to close the call of len(), found end of expression"},
      {"len('a' 'b')", 8, "expected ')' to close the call of len(), found a string"},
      {"true ? 1", 8, "expected ':' in conditional 'a ? b : c', found end of expression"},
      {"true ? 1 2", 9, "expected ':' in conditional 'a ? b : c', found '2'"},
      {"a.", 2, "expected a field name after '.', found end of expression"},
      {"a.1", 2, "expected a field name after '.', found '1'"},
      {"a.b(1)", 3, "only named functions can be called"},
      {"(a)(1)", 3, "only named functions can be called"},
      {"in", 0, "unexpected 'in'"},
      {"x in", 4, "unexpected end of expression"},
      {")", 0, "unexpected ')'"},
      {"*2", 0, "unexpected '*'"},
      {"a < > b", 4, "unexpected '>'"},
      {"matches('a', '[')", 13, "matches() pattern is not a valid regular expression"},
      {"matches('a', 1)", 13, "matches() pattern must be a string"},
      {"matches('abab', '(ab)\\\\1')", 16, "matches() pattern uses a back-reference, which is not supported"},
      {"matches('a', '(.*){9000}')", 13, "matches() pattern too complex: its repetitions expand to more than 1000 items"},
      {"matches('a', '" + std::string(257, 'a') + "')", 13, "matches() pattern longer than 256 characters"},
  };
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkParseError(c);
}

TEST_CASE("ExprError renders the 1-based column", "[expr][parse]") {
  auto parsed = Expression::parse("a = 1");
  auto* err = std::get_if<ExprError>(&parsed);
  REQUIRE(err != nullptr);
  CHECK(err->toString() == "unexpected '=': use '==' to compare at col 3");
  CHECK(parseOk("  inputs.age ").text() == "  inputs.age ");
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST_CASE("expression length is limited", "[expr][limits]") {
  std::string atLimit = "1" + repeat(" ", 4095);
  CHECK(atLimit.size() == 4096);
  CHECK(std::holds_alternative<Expression>(Expression::parse(atLimit)));
  ExprLimits small;
  small.maxLength = 10;
  const ParseErrorCase kCases[] = {
      {atLimit + " ", 0, "expression longer than 4096 characters"},
      {repeat("(", 10000), 0, "expression longer than 4096 characters"},
  };
  auto c = GENERATE_REF(from_range(std::begin(kCases), std::end(kCases)));
  checkParseError(c);
  checkParseError({"1 + 2 + 3 + 4", 0, "expression longer than 10 characters"}, small);
}

TEST_CASE("deep nesting is refused quickly, without recursion to the bottom", "[expr][limits]") {
  ExprLimits roomy;
  roomy.maxLength = 1 << 20;  // so that nesting, not length, is what is refused
  // The depth counts each bracket or call and the expression inside it, so about 24 levels
  // of brackets fit in maxDepth = 48; a unary operator counts one level.
  static const ParseErrorCase kCases[] = {
      {repeat("(", 10000), 24, "expression nested deeper than 48 levels"},
      {repeat("(", 10000) + "1" + repeat(")", 10000), 24, "expression nested deeper than 48 levels"},
      {repeat("[", 10000), 24, "expression nested deeper than 48 levels"},
      {repeat("!", 10000) + "true", 47, "expression nested deeper than 48 levels"},
      {repeat("-", 10000) + "1", 47, "expression nested deeper than 48 levels"},
      {repeat("len(", 10000), 96, "expression nested deeper than 48 levels"},
      {repeat("true ? 1 : ", 10000) + "2", 524, "expression nested deeper than 48 levels"},
      {repeat("a[", 10000), 48, "expression nested deeper than 48 levels"},
  };
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  auto start = std::chrono::steady_clock::now();
  checkParseError(c, roomy);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("just inside the nesting limit parses and evaluates", "[expr][limits]") {
  Env env;
  checkValue({(repeat("(", 23) + "1" + repeat(")", 23)).c_str(), "1"}, env.ctx);
  checkValue({(repeat("!", 46) + "true").c_str(), "true"}, env.ctx);
  checkParseError({repeat("(", 24) + "1" + repeat(")", 24), 24, "expression nested deeper than 48 levels"});
}

TEST_CASE("long chains of operators, fields or indexes are bounded too", "[expr][limits]") {
  // A chain `1 + 1 + ...` nests one level per operator in the parsed tree; the evaluator
  // recurses once per level, so the tree's height is bounded at 16 x maxDepth = 768.
  Env env;
  checkValue({("1" + repeat("+1", 768)).c_str(), "769"}, env.ctx);
  ExprLimits roomy;
  roomy.maxLength = 1 << 20;
  static const ParseErrorCase kCases[] = {
      {"1" + repeat("+1", 769), 1537, "expression nests more than 768 operators, fields or indexes inside one another"},
      {"x" + repeat(" || x", 769), 3842, "expression nests more than 768 operators, fields or indexes inside one another"},
      {"inputs" + repeat(".a", 769), 1543, "expression nests more than 768 operators, fields or indexes inside one another"},
      {"items" + repeat("[0]", 769), 2309, "expression nests more than 768 operators, fields or indexes inside one another"},
      {"1" + repeat("+1", 200000), 1537, "expression nests more than 768 operators, fields or indexes inside one another"},
  };
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkParseError(c, roomy);
}

TEST_CASE("evaluation stops when it exceeds the step budget", "[expr][limits]") {
  Env env;
  ExprLimits limits;
  limits.maxSteps = 10;
  // 11 nodes: five '+' and six numbers, evaluated outermost first; the 11th is the '6'.
  checkEvalError({"1+2+3+4+5+6", "evaluation exceeded 10 steps at col 11"}, env.ctx, limits);
  limits.maxSteps = 11;
  checkValue({"1+2+3+4+5+6", "21"}, env.ctx, limits);
  limits.maxSteps = 1;
  checkEvalError({"len('abc')", "evaluation exceeded 1 steps at col 5"}, env.ctx, limits);
}

TEST_CASE("values built during evaluation are limited in size", "[expr][limits]") {
  Env env;
  ExprLimits limits;
  limits.maxValueBytes = 8;
  static const ValueCase kFits[] = {
      {"'abcd' + 'efgh'", "\"abcdefgh\""},
      {"[1, 2, 3, 4] + [5, 6, 7, 8]", "[1, 2, 3, 4, 5, 6, 7, 8]"},
      {"join(['abc', 'def'], '-')", "\"abc-def\""},
  };
  static const EvalErrorCase kTooBig[] = {
      {"'abcd' + 'efghi'", "value larger than the limit of 8 at col 8"},
      {"[1,2,3,4] + [5,6,7,8,9]", "value larger than the limit of 8 at col 11"},
      {"join(['abcd', 'efgh'], '-')", "join(): result larger than the limit at col 1"},
      {"string([1, 2, 3, 4, 5])", "value larger than the limit of 8 at col 1"},
      {"split('a,b,c,d,e,f,g,h,i', ',')", "split(): result larger than the limit at col 1"},
  };
  SECTION("within the limit") {
    auto c = GENERATE(from_range(std::begin(kFits), std::end(kFits)));
    checkValue(c, env.ctx, limits);
  }
  SECTION("over the limit") {
    auto c = GENERATE(from_range(std::begin(kTooBig), std::end(kTooBig)));
    checkEvalError(c, env.ctx, limits);
  }
}

TEST_CASE("doubling a large string hits the default 1 MiB limit", "[expr][limits]") {
  Json data = {{"s", std::string(600 * 1024, 'x')}};
  JsonBindings bindings(data);
  EvalContext ctx;
  ctx.bindings = &bindings;
  checkEvalError({"s + s", "value larger than the limit of 1048576 at col 3"}, ctx);
  checkValue({"len(s + 'y')", "614401"}, ctx);
}

TEST_CASE("matches() bounds the pattern, the text and the work", "[expr][limits][regex]") {
  Json data = {{"p256", std::string(256, 'a')},
               {"p257", std::string(257, 'a')},
               {"t4096", std::string(4096, 'a')},
               {"t4097", std::string(4097, 'a')},
               {"evil", "(a*)*b"},
               {"backref", "(a)\\1"}};
  JsonBindings bindings(data);
  EvalContext ctx;
  ctx.bindings = &bindings;
  static const ValueCase kOk[] = {
      {"matches(t4096, p256)", "true"},
      {"matches(t4096, 'a$')", "true"},
      {"matches(t4096, evil)", "false"},  // exponential for a backtracking matcher
      {"matches(t4096, '(a|aa)+b')", "false"},
      {"matches(t4096, '(a{0,30}){0,30}b')", "false"},
  };
  static const EvalErrorCase kErrors[] = {
      {"matches('a', p257)", "matches(): pattern longer than 256 characters at col 1"},
      {"matches(t4097, 'a')", "matches(): text longer than 4096 characters at col 1"},
      {"matches('aa', backref)", "matches(): pattern uses a back-reference, which is not supported at col 1"},
  };
  SECTION("allowed patterns finish quickly") {
    auto c = GENERATE(from_range(std::begin(kOk), std::end(kOk)));
    auto start = std::chrono::steady_clock::now();
    checkValue(c, ctx);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
  SECTION("refused") {
    auto c = GENERATE(from_range(std::begin(kErrors), std::end(kErrors)));
    checkEvalError(c, ctx);
  }
}

TEST_CASE("one parsed expression evaluates concurrently", "[expr][limits]") {
  Expression e = parseOk("len(split(inputs.csv, ',')) + inputs.age + (matches(inputs.name, '^A') ? 1 : 0)");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  Env env;  // shared, read-only
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&e, &ok, &env, t] {
      for (int i = 0; i < 200; ++i) {
        auto r = e.evaluate(env.ctx);
        ok[static_cast<size_t>(t)] += (r && r.value() == Json(20)) ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(ok == std::vector<int>(4, 200));
}

// ---------------------------------------------------------------------------------------------
// Templates

TEST_CASE("templates: one ${{ }} keeps its type, anything else renders text", "[expr][template]") {
  static const ValueCase kCases[] = {
      {"${{ inputs.age }}", "15"},
      {"${{inputs.flag}}", "true"},
      {"${{ inputs.tags }}", "[\"urgent\", \"dv\", \"school\"]"},
      {"${{ inputs.nothing }}", "null"},
      {"${{ inputs.child }}", "{\"name\": \"Sam\", \"dob\": \"2012-05-01\"}"},
      {"Age: ${{ inputs.age }}", "\"Age: 15\""},
      {"${{ inputs.child.name }} is ${{ inputs.age }}", "\"Sam is 15\""},
      {"x${{ inputs.nothing }}y", "\"xy\""},
      {"tags=${{ inputs.tags }}", "\"tags=[\\\"urgent\\\",\\\"dv\\\",\\\"school\\\"]\""},
      {"score ${{ inputs.score }}", "\"score 2.5\""},
      {" ${{ 1 }}", "\" 1\""},
      {"${{ 1 }}${{ 2 }}", "\"12\""},
      {"${{ true }} ${{ false }}", "\"true false\""},
      {"plain text", "\"plain text\""},
      {"", "\"\""},
      {"${{ 'a}' }}", "\"a}\""},
      {"${ not one }", "\"${ not one }\""},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  INFO("template: " << c.expr);
  auto parsed = Template::parse(c.expr);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    FAIL("unexpected parse error: " << err->toString());
  }
  auto r = std::get<Template>(parsed).evaluate(env.ctx);
  if (!r) {
    FAIL("unexpected evaluation error: " << r.status().message());
  }
  CHECK(r.value().dump() == Json::parse(c.json).dump());
}

TEST_CASE("template parse errors carry offsets into the template", "[expr][template][errors]") {
  static const ParseErrorCase kCases[] = {
      {"Hello ${{ name", 6, "'${{' is not closed by '}}'"},
      {"${{ 1 }} and ${{ 2", 13, "'${{' is not closed by '}}'"},
      {"a ${{ }} b", 2, "empty '${{ }}'"},
      {"${{}}", 0, "empty '${{ }}'"},
      {"${{ 1 + }}", 8, "unexpected end of expression"},
      {"Hi ${{ a = 1 }}", 9, "unexpected '=': use '==' to compare"},
      {"${{ foo() }}", 4, "unknown function 'foo'"},
  };
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  INFO("template: " << c.text);
  auto parsed = Template::parse(c.text);
  auto* err = std::get_if<ExprError>(&parsed);
  REQUIRE(err != nullptr);
  CHECK(err->message == c.message);
  CHECK(err->offset == c.offset);
}

TEST_CASE("template parts, offsets and evaluation errors", "[expr][template]") {
  CHECK(Template::hasExpressions("a ${{ b }}"));
  CHECK(Template::hasExpressions("${{"));
  CHECK_FALSE(Template::hasExpressions("a ${ b }"));
  CHECK_FALSE(Template::hasExpressions("plain"));

  auto parsed = Template::parse("ab ${{ x.y }} cd");
  REQUIRE(std::holds_alternative<Template>(parsed));
  const Template& t = std::get<Template>(parsed);
  CHECK_FALSE(t.isSingleExpression());
  REQUIRE(t.parts().size() == 3);
  CHECK(t.parts()[0].literal == "ab ");
  CHECK(t.parts()[0].offset == 0);
  REQUIRE(t.parts()[1].expr != nullptr);
  CHECK(t.parts()[1].offset == 6);  // the expression text " x.y " starts after '${{'
  CHECK(t.parts()[1].expr->text() == " x.y ");
  CHECK(t.parts()[2].literal == " cd");
  CHECK(t.parts()[2].offset == 13);

  auto single = Template::parse("${{ x }}");
  REQUIRE(std::holds_alternative<Template>(single));
  CHECK(std::get<Template>(single).isSingleExpression());

  // Evaluation errors keep the column inside the expression between '${{' and '}}'.
  Env env;
  auto bad = Template::parse("Hi ${{ 1 < 'a' }}");
  REQUIRE(std::holds_alternative<Template>(bad));
  auto r = std::get<Template>(bad).evaluate(env.ctx);
  REQUIRE_FALSE(r);
  CHECK(r.status().message() == "cannot compare number with string at col 4");
}

// ---------------------------------------------------------------------------------------------
// Paths for the validator

TEST_CASE("paths() lists the statically known paths with their offsets", "[expr][validator]") {
  struct PathCase {
    const char* expr;
    std::vector<vigil::PathRef> want;
  };
  static const std::vector<PathCase> kCases = {
      {"steps.pnd.output.markers", {{0, {"steps", "pnd", "output", "markers"}, {0, 6, 10, 17}}}},
      {"inputs[\"child\"].name", {{0, {"inputs", "child", "name"}, {0, 7, 16}}}},
      {"inputs['child']['name']", {{0, {"inputs", "child", "name"}, {0, 7, 16}}}},
      {"items[0].x", {{0, {"items"}, {0}}}},
      {"steps[inputs.key].output", {{0, {"steps"}, {0}}, {6, {"inputs", "key"}, {6, 13}}}},
      {"a.b[c.d].e", {{0, {"a", "b"}, {0, 2}}, {4, {"c", "d"}, {4, 6}}}},
      {"len(inputs.tags) > 0 && steps.pnd.output.found",
       {{4, {"inputs", "tags"}, {4, 11}}, {24, {"steps", "pnd", "output", "found"}, {24, 30, 34, 41}}}},
      {"keys(inputs.child).x", {{5, {"inputs", "child"}, {5, 12}}}},
      {"(x ? a : b).c", {{1, {"x"}, {1}}, {5, {"a"}, {5}}, {9, {"b"}, {9}}}},
      {"[a, b]", {{1, {"a"}, {1}}, {4, {"b"}, {4}}}},
      {"x.a + x.b", {{0, {"x", "a"}, {0, 2}}, {6, {"x", "b"}, {6, 8}}}},
      {"item", {{0, {"item"}, {0}}}},
      {"1 + 2", {}},
      {"now()", {}},
  };
  auto c = GENERATE(from_range(kCases));
  INFO("expression: " << c.expr);
  Expression e = parseOk(c.expr);
  const auto& got = e.paths();
  REQUIRE(got.size() == c.want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("path " << i);
    CHECK(got[i].offset == c.want[i].offset);
    CHECK(got[i].segments == c.want[i].segments);
    CHECK(got[i].segmentOffsets == c.want[i].segmentOffsets);
  }
}

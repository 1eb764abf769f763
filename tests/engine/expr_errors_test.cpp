// The expression language (engine/src/expr): type, arithmetic, path, argument and parse errors with their columns.
// Nearly every case is one row of a table; the tables are walked with GENERATE.
#include <chrono>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "expr_test_support.h"

using namespace exprtest;

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
      {"matches('a', inputs.badpattern)", "matches(): pattern is not a valid regular expression: missing ']' at col 1"},
      {"matches('a', inputs.name + '(?=x)')", "matches(): pattern uses lookahead, which is not supported at col 1"},
      {"duration(trim('abc'))", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(trim('-'))", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(trim('--2d'))", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(trim('400d'))", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(inputs.name)", "duration(): argument 1 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"duration(true)", "duration(): argument 1 must be a duration (string or seconds), got boolean at col 1"},
      {"duration(1e12)", "duration(): duration out of range at col 1"},
      {"time_add('yesterday', '1h')", "time_add(): argument 1 is not an ISO-8601 time at col 1"},
      {"time_add('2026-11-26T09:00:00', '1h')", "time_add(): argument 1 is not an ISO-8601 time at col 1"},
      {"time_add('2026-11-26', trim('soon'))", "time_add(): argument 2 is not a duration such as 30s, 4h, 1h30m or -2d at col 1"},
      {"time_add(5, '1h')", "time_add(): argument 1 must be a string, got number at col 1"},
      {"time_add('0000-01-01', '-2d')", "time_add(): result outside the years 0000 to 9999 at col 1"},
      {"time_add('9999-12-31T23:00:00Z', '1h')", "time_add(): result outside the years 0000 to 9999 at col 1"},
      {"time_add('x', trim('y'))", "time_add(): argument 1 is not an ISO-8601 time at col 1"},  // the first bad one
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
      // A literal duration is checked as it is parsed; a computed one when evaluated.
      {"duration('abc')", 9, "'abc' is not a duration such as 30s, 4h, 1h30m or 2d"},
      {"duration('400d')", 9, "'400d' is not a duration such as 30s, 4h, 1h30m or 2d"},
      {"time_add(now(), '72 hours')", 16, "'72 hours' is not a duration such as 30s, 4h, 1h30m or 2d"},
      {"working_time_add(now(), '2 days', 'office')", 24, "'2 days' is not a duration such as 30s, 4h, 1h30m or 2d"},
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
      {"matches('a', '[')", 13, "matches() pattern is not a valid regular expression: missing ']'"},
      {"matches('a', '(a')", 13, "matches() pattern is not a valid regular expression: missing ')'"},
      {"matches('a', 'a)|(b')", 13, "matches() pattern is not a valid regular expression: unexpected ')'"},
      {"matches('a', '*a')", 13, "matches() pattern is not a valid regular expression: nothing to repeat before *"},
      {"matches('a', 'a**')", 13, "matches() pattern is not a valid regular expression: bad repetition **"},
      {"matches('a', '[z-a]')", 13, "matches() pattern is not a valid regular expression: bad character range z-a"},
      {"matches('a', 'a{2,1}')", 13, "matches() pattern is not a valid regular expression: repetition {2,1} has its maximum below its minimum"},
      {"matches('a', '\\\\q')", 13, "matches() pattern is not a valid regular expression: unknown escape \\q"},
      {"matches('a', '\\\\')", 13, "matches() pattern is not a valid regular expression: it ends with a lone backslash"},
      {"matches('a', '(?<name>a)')", 13, "matches() pattern is not a valid regular expression: name a group as (?P<name>...)"},
      {"matches('a', 1)", 13, "matches() pattern must be a string"},
      {"x + matches('abab', '(ab)\\\\1')", 20, "matches() pattern uses a back-reference, which is not supported"},
      {"matches('Alice', '(?!Bob)Al')", 17, "matches() pattern uses lookahead, which is not supported"},
      {"matches('Alice', '(?=A)')", 17, "matches() pattern uses lookahead, which is not supported"},
      {"matches('Alice', 'e(?<=c)')", 17, "matches() pattern uses lookbehind, which is not supported"},
      {"matches('Alice', '(?<!c)e')", 17, "matches() pattern uses lookbehind, which is not supported"},
      {"matches('a', '(.*){9000}')", 13, "matches() pattern too complex: {9000} repeats more than 1000 times (nested repetitions multiply)"},
      {"matches('a', '(a{0,50}){0,50}')", 13, "matches() pattern too complex: {0,50} repeats more than 1000 times (nested repetitions multiply)"},
      {"matches('a', '.{1000}.{300}')", 13, "matches() pattern too complex: it compiles to more than 10000 instructions"},
      {"matches('a', '\\\\pL{9}')", 13, "matches() pattern too complex: it compiles to more than 10000 instructions"},
      {"matches('a', '" + std::string(257, 'a') + "')", 13, "matches() pattern longer than 256 characters"},
      {"matches('a', '" + repeat("é", 257) + "')", 13, "matches() pattern longer than 256 characters"},
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

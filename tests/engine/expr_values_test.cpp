// The expression language (engine/src/expr): values, operators and every function.
// Nearly every case is one row of a table; the tables are walked with GENERATE.
#include <chrono>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "expr_test_support.h"

using namespace exprtest;

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

TEST_CASE("matches() searches with an RE2 regular expression", "[expr][functions][regex]") {
  static const ValueCase kCases[] = {
      {"matches('AB123456C', '^[A-Z]{2}[0-9]{6}[A-Z]$')", "true"},
      {"matches('ab12', '^[0-9]+$')", "false"},
      {"matches('2026-01-05', '^\\\\d{4}-\\\\d{2}-\\\\d{2}$')", "true"},
      {"matches('xabc', 'a|q')", "true"},
      {"matches('abc', '^b')", "false"},
      {"matches('a\\nb', '^b')", "false"},  // ^ and $ match at the ends of the text only
      {"matches('a\\nb', 'a$')", "false"},
      {"matches('a\\nb', '(?m)^b')", "true"},
      {"matches('ABC', 'abc')", "false"},
      {"matches('ABC', '(?i)abc')", "true"},
      {"matches('', '')", "true"},
      {"matches(inputs.name, inputs.pattern)", "true"},
      {"matches('Alice', '(?P<first>Al)ice')", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("matches() works on characters, not bytes", "[expr][functions][regex]") {
  static const ValueCase kCases[] = {
      {"matches('Zoë', '^Zo.$')", "true"},  // ë is two bytes, one character
      {"matches('Zoë', '^Zo..$')", "false"},
      {"matches('Zoë', '^Zo[éë]$')", "true"},
      {"matches('Zoe', '^Zo[éë]$')", "false"},
      {"matches('Łukasz', '^.ukasz$')", "true"},
      {"matches('Siân', '^S.{3}$')", "true"},
      {"matches('Siân', '^Si[^a]n$')", "true"},
      {"matches('日本', '^.{2}$')", "true"},
      {"matches('Zoë', '^\\\\pL+$')", "true"},  // Unicode letter classes
      {"matches('ZOË', '(?i)^zoë$')", "true"},
  };
  Env env;
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  checkValue(c, env.ctx);
}

TEST_CASE("matches() takes linear time on patterns that are catastrophic for backtracking", "[expr][functions][regex]") {
  // Each of these takes seconds to centuries for a backtracking matcher on a text of a few
  // dozen characters that almost matches; RE2 answers at once.
  const std::string text(64, 'a');
  Json data = {{"t", text + "!"}};
  JsonBindings bindings(data);
  EvalContext ctx;
  ctx.bindings = &bindings;
  static const ValueCase kCases[] = {
      {"matches(t, '^(a+)+$')", "false"},
      {"matches(t, '^(a|a)*$')", "false"},
      {"matches(t, '^(a|aa)+$')", "false"},
      {"matches(t, '^(a*)*b')", "false"},
      {"matches(t, '^(.*a){20}$')", "false"},
      {"matches(t, '^(a+)+!$')", "true"},
  };
  auto c = GENERATE(from_range(std::begin(kCases), std::end(kCases)));
  auto start = std::chrono::steady_clock::now();
  checkValue(c, ctx);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
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

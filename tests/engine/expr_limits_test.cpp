// The expression language (engine/src/expr): length, depth, step, size and regular-expression limits.
// Nearly every case is one row of a table; the tables are walked with GENERATE.
#include <chrono>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "expr_test_support.h"

using namespace exprtest;

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
               {"u4096", repeat("ë", 4096)},  // 8,192 bytes, 4,096 characters
               {"u4097", repeat("ë", 4097)},
               {"evil", "(a*)*b"},
               {"big", ".{1000}.{300}"},
               {"backref", "(a)\\1"}};
  JsonBindings bindings(data);
  EvalContext ctx;
  ctx.bindings = &bindings;
  static const ValueCase kOk[] = {
      {"matches(t4096, p256)", "true"},
      {"matches(t4096, 'a$')", "true"},
      {"matches(u4096, '^ë+$')", "true"},
      {"matches(t4096, evil)", "false"},  // exponential for a backtracking matcher
      {"matches(t4096, '(a|aa)+b')", "false"},
      {"matches(t4096, '(a{0,15}){0,15}b')", "false"},
      {"matches(t4096, '[a-z]{0,999}b')", "false"},
      {"matches(t4096, '(.*){1000}x')", "false"},  // near the largest program allowed
      {"matches(u4096, '(.{0,10}){0,10}b')", "false"},
  };
  static const EvalErrorCase kErrors[] = {
      {"matches('a', p257)", "matches(): pattern longer than 256 characters at col 1"},
      {"matches(t4097, 'a')", "matches(): text longer than 4096 characters at col 1"},
      {"matches(u4097, 'a')", "matches(): text longer than 4096 characters at col 1"},
      {"matches('aa', backref)", "matches(): pattern uses a back-reference, which is not supported at col 1"},
      {"matches('aa', big)", "matches(): pattern too complex: it compiles to more than 10000 instructions at col 1"},
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

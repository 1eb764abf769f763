// The expression language (engine/src/expr): `${{ }}` templates and the paths the validator reads.
// Nearly every case is one row of a table; the tables are walked with GENERATE.
#include <chrono>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "expr_test_support.h"

using namespace exprtest;

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

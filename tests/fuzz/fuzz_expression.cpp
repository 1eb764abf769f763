// Fuzzes the expression lexer, parser and evaluator, and `${{ }}` templates, against a
// fixed set of bindings so evaluation paths (types, paths, functions) are reached.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vigil/expr.h"

namespace {

const vigil::Json& bindings() {
  static const vigil::Json b = vigil::Json::parse(R"({
    "inputs": {"referral": {"id": "R-1", "child": {"name": "Test Child", "dob": "2015-04-01"},
               "concerns": ["neglect", "violence"], "count": 3, "ratio": 0.5, "flag": true}},
    "steps": {"pnd": {"status": "completed", "output": {"markers": ["violence"], "n": 2}},
              "rms": {"status": "failed", "output": null, "error": {"message": "down"}}},
    "run": {"id": "run-1", "started_by": "officer-1", "started_at": "2026-11-26T09:00:00Z"},
    "item": {"name": "a"}, "index": 0
  })");
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::JsonBindings b(bindings());
  static const vigil::Area area = [] {
    vigil::Area a;
    a.calendars["office"].addHoliday(vigil::civilDayFromYmd(2026, 12, 25));
    a.defaultCalendar = "office";
    a.timescales["decision"].targets["RED"] = {std::chrono::hours(2), false};
    a.timescales["decision"].targets["GREEN"] = {std::chrono::hours(24), true};
    return a;
  }();
  vigil::EvalContext ctx;
  ctx.bindings = &b;
  ctx.now = *vigil::parseTime("2026-11-26T09:30:00Z");
  ctx.area = &area;
  vigil::ExprLimits limits;
  limits.maxSteps = 20000;
  auto parsed = vigil::Expression::parse(text, limits);
  if (auto* e = std::get_if<vigil::Expression>(&parsed)) {
    auto v = e->evaluate(ctx);
    if (v.isOk()) {
      (void)v->dump(-1, ' ', false, vigil::Json::error_handler_t::replace);
    }
    (void)e->paths();
  }
  auto t = vigil::Template::parse(text, limits);
  if (auto* tp = std::get_if<vigil::Template>(&t)) {
    (void)tp->evaluate(ctx);
  }
  return 0;
}

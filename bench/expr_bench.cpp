// Expression figures: evaluations per second of a typical decide rule and a template.
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "vigil/expr.h"

namespace vigil::bench {

int runExprBench(const std::vector<std::string>& args) {
  long evals = 1000000;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--evals") evals = std::max(1L, std::stol(args[i + 1]));
  }
  Json data = Json::parse(R"({
    "inputs": {"referral": {"id": "R-1", "concerns": ["neglect", "violence"], "child": {"name": "Test Child"}}},
    "steps": {"pnd": {"output": {"markers": ["violence", "weapons"]}},
              "rms": {"output": {"incidents": [1, 2, 3]}}}})");
  JsonBindings b(data);
  EvalContext ctx;
  ctx.bindings = &b;
  auto rule = std::get<Expression>(Expression::parse(
      "'violence' in steps.pnd.output.markers && len(steps.rms.output.incidents) >= 2"));
  auto tmpl = std::get<Template>(Template::parse("Referral ${{ inputs.referral.id }} for ${{ inputs.referral.child.name }}"));
  long trueCount = 0;
  auto ruleMs = timeRuns(1, [&] {
    for (long i = 0; i < evals; ++i) trueCount += rule.evaluate(ctx).value().get<bool>() ? 1 : 0;
  });
  size_t chars = 0;
  auto tmplMs = timeRuns(1, [&] {
    for (long i = 0; i < evals; ++i) chars += tmpl.evaluate(ctx).value().get_ref<const std::string&>().size();
  });
  nlohmann::json out = {
      {"bench", "expr"},
      {"evals", evals},
      {"rule_evals_per_sec", static_cast<double>(evals) / (ruleMs[0] / 1000.0)},
      {"template_evals_per_sec", static_cast<double>(evals) / (tmplMs[0] / 1000.0)},
      {"checksum", trueCount + static_cast<long>(chars)},
      {"peak_rss_mb", peakRssMb()},
  };
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace vigil::bench

// vigil eval: evaluate one expression against a JSON context, for authors trying rules.
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/program_options.hpp>

#include "area_file.h"
#include "cli.h"
#include "vigil/expr.h"

namespace po = boost::program_options;

namespace vigil::daemon {
namespace {

int runEval(CommandContext& ctx) {
  po::options_description opts;
  std::string context = "{}", now, expr;
  std::vector<std::string> holidays;
  std::string areaFile;
  opts.add_options()("context", po::value(&context))("now", po::value(&now))("holiday", po::value(&holidays))(
      "area", po::value(&areaFile))(
      "expr", po::value(&expr));
  po::positional_options_description pos;
  pos.add("expr", 1);
  if (int rc = kExitOk; !parseOptions("eval", ctx, opts, pos, &rc)) {
    return rc;
  }
  if (expr.empty()) return usageError("eval", "give the expression to evaluate");
  if (!context.empty() && context[0] == '@') {
    std::ifstream in(context.substr(1));
    if (!in) return usageError("eval", "cannot read context file '" + context.substr(1) + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    context = ss.str();
  }
  Json bindings = Json::parse(context, nullptr, false);
  if (bindings.is_discarded() || !bindings.is_object()) {
    return usageError("eval", "--context must be a JSON object (or @FILE holding one)");
  }
  EvalContext ec;
  JsonBindings jb(bindings);
  ec.bindings = &jb;
  ec.now = systemClock()->now();
  if (!now.empty()) {
    auto t = parseTime(now);
    if (!t) return usageError("eval", "--now must be an ISO-8601 time such as 2026-11-26T09:00:00Z");
    ec.now = *t;
  }
  std::shared_ptr<const Area> area;
  if (!areaFile.empty()) {
    if (!holidays.empty()) return usageError("eval", "--holiday and --area do not go together (the area file has the holidays)");
    auto loaded = loadAreaFile(areaFile);
    if (!loaded) {
      std::cerr << loaded.status().message() << "\n";
      return kExitUsage;
    }
    area = std::move(loaded).value();
  } else {
    std::set<std::string_view> days(holidays.begin(), holidays.end());
    auto cal = Calendar::fromDates(days);
    if (!cal) return usageError("eval", cal.status().message());
    auto built = std::make_shared<Area>();
    built->calendars["default"] = std::move(cal).value();
    built->defaultCalendar = "default";
    area = std::move(built);
  }
  ec.area = area.get();
  auto parsed = Expression::parse(expr);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    std::cerr << "error: " << err->toString() << "\n  " << expr << "\n  " << std::string(err->offset, ' ') << "^\n";
    return kExitFailure;
  }
  auto value = std::get<Expression>(parsed).evaluate(ec);
  if (!value) {
    std::cerr << "error: " << value.status().message() << "\n";
    return kExitFailure;
  }
  std::cout << value->dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace

Command evalCommand() {
  return Command{"eval", "Evaluate an expression against a JSON context (for trying rules)",
                 "vigil eval [--context JSON|@FILE] [--now TIME] [--holiday YYYY-MM-DD]... [--area FILE] EXPRESSION",
                 "Parses EXPRESSION with the workflow expression language and prints its value as\n"
                 "JSON. Names in the expression are looked up in the --context object, for example\n"
                 "--context '{\"inputs\": {\"age\": 15}}' makes inputs.age available.\n\n"
                 "Options:\n"
                 "  --context JSON|@FILE   the names the expression can read (default {})\n"
                 "  --now TIME             what now() returns (default: the current time)\n"
                 "  --holiday DATE         a non-working day for working_days_after() (repeatable)\n"
                 "  --area FILE            calendars and timescales for next_opening(), sla_deadline()...\n\n"
                 "Exit status: 0 with the value on stdout; 1 with the error and its column on stderr.\n",
                 runEval};
}

}  // namespace vigil::daemon

// Loader figures: how fast valid workflows load and how fast hostile YAML is refused.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "vigil/loader.h"

namespace vigil::bench {
namespace {

std::string billionLaughs() {
  std::string doc = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 0; k < 8; ++k) doc += ", " + prev;
    doc += "]\n";
  }
  return doc;
}

nlohmann::json figure(const std::vector<double>& ms, bool refused) {
  return {{"p50_ms", percentile(ms, 0.5)}, {"max_ms", percentile(ms, 1.0)}, {"refused", refused}};
}

}  // namespace

int runLoaderBench(const std::vector<std::string>& args) {
  int reps = 20;
  std::string source = ".";
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--reps") reps = std::max(1, std::stoi(args[i + 1]));
    if (args[i] == "--source") source = args[i + 1];
  }
  nlohmann::json out = {{"bench", "loader"}, {"reps", reps}};

  std::string bomb = billionLaughs();
  bool refused = true;
  out["alias_bomb"] = figure(timeRuns(reps, [&] { refused &= !loadWorkflow(bomb, "bomb.yaml").ok(); }), refused);

  std::string deep = "steps: " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  refused = true;
  out["nesting_10000"] = figure(timeRuns(reps, [&] { refused &= !loadWorkflow(deep, "deep.yaml").ok(); }), refused);

  std::string big(100u << 20, 'a');
  refused = true;
  out["document_100mb"] = figure(timeRuns(reps, [&] { refused &= !loadWorkflow(big, "big.yaml").ok(); }), refused);
  big.clear();
  big.shrink_to_fit();

  namespace fs = std::filesystem;
  std::vector<std::string> texts;
  for (const auto& e : fs::directory_iterator(fs::path(source) / "workflows")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    texts.push_back(ss.str());
  }
  size_t loaded = 0;
  auto ms = timeRuns(reps, [&] {
    for (const auto& t : texts) loaded += loadWorkflow(t, "w.yaml").ok() ? 1 : 0;
  });
  out["shipped_workflows"] = {{"files", texts.size()},
                              {"p50_ms_all_files", percentile(ms, 0.5)},
                              {"loaded_ok", loaded == texts.size() * static_cast<size_t>(reps)}};
  out["peak_rss_mb"] = peakRssMb();
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace vigil::bench

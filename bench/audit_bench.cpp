// audit-verify: builds an audit trail of N records (run-transition-sized payloads, a
// signed checkpoint every 100,000 records and at the end) through the store, then times
// `verifyAudit` over it from a read-only open, as `vigil audit verify --data` does.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "vigil/audit.h"
#include "vigil/signing.h"
#include "vigil/store.h"

namespace vigil::bench {

int runAuditVerifyBench(const std::vector<std::string>& args) {
  long long records = 1000000;
  std::string dir;
  for (size_t i = 0; i + 1 < args.size(); i += 2) {
    if (args[i] == "--records") records = std::stoll(args[i + 1]);
    if (args[i] == "--data") dir = args[i + 1];
  }
  const bool temp = dir.empty();
  // An existing bench directory is verified again without rebuilding (for profiling).
  if (!temp && std::filesystem::exists(dir + "/bench.pub.pem")) {
    std::ifstream in(dir + "/bench.pub.pem");
    std::stringstream pem;
    pem << in.rdbuf();
    auto source = openSqliteAuditSource(dir);
    if (!source) return 1;
    auto v0 = std::chrono::steady_clock::now();
    AuditVerdict v = verifyAudit(**source, pem.str());
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count();
    std::cout << nlohmann::json{{"bench", "audit-verify"}, {"records", v.records}, {"ok", v.ok}, {"verify_seconds", seconds},
                                {"records_per_sec", static_cast<double>(v.records) / seconds}, {"peak_rss_mb", peakRssMb()}}
                     .dump()
              << "\n";
    return v.ok ? 0 : 1;
  }
  if (temp) dir = (std::filesystem::temp_directory_path() / ("vigil-audit-bench-" + std::to_string(::getpid()))).string();
  auto opened = openSqliteStore(dir);
  auto key = SigningKey::generate();
  if (!opened || !key) {
    std::cerr << "cannot set up the store or key\n";
    return 1;
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  const TimePoint t0 = *parseTime("2026-11-26T09:00:00Z");
  auto build0 = std::chrono::steady_clock::now();
  std::vector<AuditEntry> batch;
  for (long long i = 0; i < records; ++i) {
    AuditEntry e;
    e.time = t0 + std::chrono::milliseconds(i);
    e.kind = i % 3 == 0 ? "consultation" : "run";
    e.actor = "system:mash-triage@3";
    e.runId = "r-" + std::to_string(i / 9);
    e.subject = "ps:0123456789abcdef";
    e.system = "vigil";
    e.purpose = "safeguarding research";
    e.payload = {{"run", e.runId},
                 {"events", {{{"seq", i % 13 + 1}, {"type", "StepCompleted"}, {"time", i}, {"step", "pnd"},
                              {"data", {{"output", {{"markers", {"violence"}}, {"found", true}}}}}}}}};
    batch.push_back(std::move(e));
    if (batch.size() == 10000 || i + 1 == records) {
      if (!store->audit().append(batch)) return 1;
      batch.clear();
    }
    if ((i + 1) % 100000 == 0 || i + 1 == records) (void)store->audit().checkpoint(*key, t0, "vigil.bench/audit");
  }
  double buildSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - build0).count();
  if (!temp) std::ofstream(dir + "/bench.pub.pem") << key->publicKeyPem();
  store.reset();
  auto source = openSqliteAuditSource(dir);
  if (!source) return 1;
  auto v0 = std::chrono::steady_clock::now();
  AuditVerdict v = verifyAudit(**source, key->publicKeyPem());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count();
  uintmax_t bytes = std::filesystem::file_size(dir + "/vigil.db");
  nlohmann::json out = {{"bench", "audit-verify"},
                        {"records", records},
                        {"ok", v.ok},
                        {"problem", v.problem},
                        {"checkpoints", v.checkpoints},
                        {"verify_seconds", seconds},
                        {"records_per_sec", static_cast<double>(v.records) / seconds},
                        {"append_records_per_sec", static_cast<double>(records) / buildSeconds},
                        {"db_mb", static_cast<double>(bytes) / 1e6},
                        {"peak_rss_mb", peakRssMb()}};
  std::cout << out.dump() << "\n";
  if (temp) std::filesystem::remove_all(dir);
  return v.ok ? 0 : 1;
}

}  // namespace vigil::bench

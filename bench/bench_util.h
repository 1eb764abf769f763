// Small helpers shared by the benchmarks: timing and peak memory.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace vigil::bench {

// Runs `fn` `reps` times; returns each run's wall time in milliseconds.
inline std::vector<double> timeRuns(int reps, const std::function<void()>& fn) {
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return ms;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// User and system CPU time of this process so far, every thread's.
inline double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// Single-row commits per second and their median latency on `dir`'s file system.
struct DiskCommitRate {
  double commitsPerSec = 0;
  double p50Ms = 0;
};
DiskCommitRate measureDiskCommitRate(const std::string& dir, int commits);

int runLoaderBench(const std::vector<std::string>& args);
int runExprBench(const std::vector<std::string>& args);
int runEngineBench(const std::vector<std::string>& args);
int runParkedBench(const std::vector<std::string>& args, const std::string& self);
int runParkedRestart(const std::vector<std::string>& args);
int runAuditVerifyBench(const std::vector<std::string>& args);

}  // namespace vigil::bench

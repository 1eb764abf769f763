// The daemon's side of the audit trail: the signing key (a file outside the database),
// the subject-reference key, checkpoints at an interval and on shutdown, access and admin
// records, export bundles, and live verification. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "vigil/audit.h"
#include "vigil/clock.h"
#include "vigil/signing.h"
#include "vigil/store.h"

namespace vigil::daemon {

struct AuditPaths {
  std::string signingKey;   // PEM private key, 0600
  std::string publicKey;    // PEM public key, written beside it for verifiers
  std::string subjectKey;   // 32 random bytes, 0600
  static AuditPaths inDataDir(const std::string& dataDir);
};

class AuditService {
 public:
  static Result<std::unique_ptr<AuditService>> open(const AuditPaths& paths, Store* store, std::shared_ptr<Clock> clock,
                                                    std::shared_ptr<spdlog::logger> log);
  ~AuditService();

  const std::string& subjectKey() const { return subjectKey_; }
  std::string publicKeyPem() const;
  std::string keyId() const;

  Status record(AuditEntry entry);
  // Where records go: by default the store in their own transaction; the daemon points it
  // at the engine once that runs, so records share the group commit of run transitions.
  void setWriter(std::function<Status(std::vector<AuditEntry>)> writer);
  // Signs the head if it moved; logs and returns false on failure.
  bool checkpoint();
  // Checkpoints every `interval` until stop().
  void startTimer(std::chrono::milliseconds interval);
  void stop();

  // Workflows with a `retention:` (name -> days). The timer erases their expired runs at
  // start and then hourly; sweepRetention() does it now and returns how many runs.
  void setRetention(std::map<std::string, int> days);
  size_t sweepRetention();

  // Replaces the signing key; the old key signs the hand-over, recorded in the chain.
  Status rotateKey();

  // A bundle of one run's records (runId non-empty) or of every record since `since`.
  Result<Json> exportBundle(const std::string& runId, TimePoint since, bool payloadsVisible);

 private:
  AuditService(AuditPaths paths, Store* store, std::shared_ptr<Clock> clock, std::shared_ptr<spdlog::logger> log,
               SigningKey key, std::string subjectKey);
  AuditPaths paths_;
  Store* store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex keyMu_;
  SigningKey key_;
  std::string subjectKey_;
  std::mutex writerMu_;
  std::function<Status(std::vector<AuditEntry>)> writer_;
  std::mutex retentionMu_;
  std::map<std::string, int> retention_;
  std::chrono::steady_clock::time_point lastSweep_{};
  std::mutex timerMu_;
  std::condition_variable timerCv_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace vigil::daemon

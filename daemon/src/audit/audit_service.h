// The daemon's side of the audit trail: the signing key (a file outside the database),
// the subject-reference key, checkpoints at an interval and on shutdown, access and admin
// records, export bundles, and live verification. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <spdlog/logger.h>

#include "audit/witness_push.h"
#include "vigil/audit.h"
#include "vigil/clock.h"
#include "vigil/signing.h"
#include "vigil/store.h"

namespace vigil::daemon {

struct AuditPaths {
  std::string signingKey;   // PEM private key, 0600
  std::string publicKey;    // PEM public key, written beside it for verifiers
  std::string subjectKey;   // 32 random bytes, 0600
  std::string origin;       // the log's name, chosen at the first start unless configured
  std::string areas;        // the area files runs used, by hash (area_file.h)
  static AuditPaths inDataDir(const std::string& dataDir);
};

// Where each checkpoint goes besides the store (docs/AUDIT.md, "Checkpoints outside the
// store"): an append-only log of signed notes and witnesses that co-sign them.
struct CheckpointPublishing {
  std::string origin;  // "" = the one kept in AuditPaths::origin
  std::string checkpointLog;
  std::vector<std::string> witnesses;
};

// The log's origin: `configured`, else the one in `path`, else a new one written there.
Result<std::string> loadOrCreateOrigin(const std::string& path, const std::string& configured, const std::string& keyId);
// Appends one signed note and a blank line to the checkpoint log, and fsyncs it.
Status appendCheckpointLog(const std::string& path, const std::string& note);
// Checks that the store still holds what the checkpoint log's last note says the log
// was: at least that many records, with that root. failedPrecondition naming both when not.
Status holdStoreToLog(Store& store, const std::string& path, const std::string& origin);

class AuditService {
 public:
  // Refuses to open (failedPrecondition) a store that is shorter than, or differs from,
  // the last checkpoint in `publishing.checkpointLog`.
  static Result<std::unique_ptr<AuditService>> open(const AuditPaths& paths, Store* store, std::shared_ptr<Clock> clock,
                                                    std::shared_ptr<spdlog::logger> log,
                                                    const CheckpointPublishing& publishing = {});
  ~AuditService();

  const std::string& subjectKey() const { return subjectKey_; }
  const std::string& origin() const { return origin_; }
  // Checkpoints that could not be appended to the checkpoint log (each also logged).
  uint64_t checkpointLogFailures() const { return logFailures_.load(); }
  const WitnessPusher* witnesses() const { return pusher_.get(); }
  // The checkpoint log's newest note, to hold the store to (none without a log).
  std::vector<AuditAnchor> logAnchors() const;
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
  // Gives the witnesses up to `drainFor` to take the newest checkpoint, then stops pushing.
  void stopWitnesses(std::chrono::milliseconds drainFor);

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
               SigningKey key, std::string subjectKey, std::string origin, std::string checkpointLog);
  // Signs a checkpoint (keyMu_ held) and publishes a new one to the log and witnesses.
  Result<std::optional<AuditCheckpoint>> signAndPublish();
  AuditPaths paths_;
  Store* store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex keyMu_;
  SigningKey key_;
  std::string subjectKey_;
  std::string origin_;
  std::string checkpointLog_;
  std::atomic<uint64_t> logFailures_{0};
  std::unique_ptr<WitnessPusher> pusher_;
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

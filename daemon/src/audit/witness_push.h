// Pushes the daemon's checkpoints to `vigil witness` services (C2SP tlog-witness
// protocol: POST /add-checkpoint with the size the witness last co-signed, a consistency
// proof from it, and the new signed note). Each witness has its own thread, so a witness
// that is slow or down delays nothing else: push() only records the newest checkpoint.
// A witness that was down is caught up (one push of the newest checkpoint, with a proof
// from what it holds) when it answers again. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "vigil/audit.h"
#include "vigil/merkle.h"
#include "vigil/status.h"

namespace vigil::daemon {

class WitnessPusher {
 public:
  // `leaves(n)` gives the first n leaf hashes of the chain (for consistency proofs).
  using Leaves = std::function<Result<std::vector<merkle::Hash>>(uint64_t)>;
  WitnessPusher(std::vector<std::string> urls, Leaves leaves, std::shared_ptr<spdlog::logger> log,
                std::chrono::milliseconds retry = std::chrono::seconds(5));
  ~WitnessPusher();

  // The newest checkpoint (with its note) to send; returns at once.
  void push(const AuditCheckpoint& c);
  // Waits up to `timeout` for every witness to have co-signed the newest checkpoint pushed;
  // false when one has not (tests and shutdown use it).
  bool drain(std::chrono::milliseconds timeout);
  void stop();

  struct WitnessState {
    std::string url;
    uint64_t cosignedSize = 0;  // the largest checkpoint it co-signed
    std::string cosignature;    // its signature line for that checkpoint
    bool reachable = true;
    std::string lastError;      // "" once it answers; never holds a key or a payload
  };
  std::vector<WitnessState> states() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::daemon

// Connector: how a workflow step reaches another system (`uses: CONNECTOR.ACTION`).
//
// The engine defines the interface and a registry; concrete connectors live outside the
// engine and are registered by whoever wires the process (the daemon, a test, a bench).
// Implementations must be thread-safe and must not throw: every failure is a CallOutcome
// with a code, a message free of personal data, and whether retrying may help.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "vigil/clock.h"
#include "vigil/expr.h"
#include "vigil/status.h"

namespace vigil {

struct CallOutcome {
  bool ok = true;
  Json output;
  std::string code;     // error code, e.g. "timeout", "http_503"
  std::string message;  // never personal data
  bool retryable = false;
};

struct ConnectorCall {
  std::string runId;
  std::string step;  // step key
  int attempt = 0;
  std::string action;
  Json input;
  // "<run>/<step>/<attempt>": the same for a call repeated after a crash, so the other
  // system can recognise the repeat.
  std::string idempotencyKey;
  std::string purpose;
  std::optional<TimePoint> deadline;
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual CallOutcome call(const ConnectorCall& call) = 0;
};

// Connectors by name, each with a limit on calls in flight at once. Passed around, never
// global; registering a name twice is an error. Thread-safe.
class ConnectorRegistry {
 public:
  Status add(const std::string& name, std::shared_ptr<Connector> connector, int maxConcurrency = 16);
  std::shared_ptr<Connector> find(const std::string& name) const;
  int maxConcurrency(const std::string& name) const;

 private:
  struct Entry {
    std::shared_ptr<Connector> connector;
    int maxConcurrency;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace vigil

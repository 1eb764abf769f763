// The `test` connector: predictable actions for tests and benchmarks. Registered only by
// the tests and benchmarks that ask for it; never by the daemon.
//
//   test.echo   returns its input as output
//   test.fail   fails: {code, message, retryable, attempts: N} (fails only attempts <= N when set)
//   test.sleep  sleeps {ms} (at most 10 s) of real time, then echoes
//   test.count  counts calls per {key}; when a log file is configured, appends one line per
//               call "\n<idempotency key>\n" (fsync'd), so crash tests can audit side effects
#pragma once

#include <string>

#include "vigil/connector.h"

namespace vigil {

struct TestConnectorOptions {
  std::string logPath;  // test.count side-effect log; empty: none
  int maxConcurrency = 64;
};

Status registerTestConnector(ConnectorRegistry& registry, const TestConnectorOptions& options = {});

}  // namespace vigil

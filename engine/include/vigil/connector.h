// Connector: how a workflow step reaches another system (`uses: CONNECTOR.ACTION`).
//
// The engine defines the interface and a registry; concrete connectors live outside the
// engine and are registered by whoever wires the process (the daemon, a test, a bench).
// Implementations must be thread-safe and must not throw: every failure is a CallOutcome
// with a code, a message free of personal data, and whether retrying may help.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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
  // The other system asked us to wait this long before trying again (HTTP Retry-After);
  // the retry waits at least this long, at most an hour.
  std::optional<std::chrono::milliseconds> retryAfter;
  // Who received what was sent, for the disclosure record: e-mail addresses, or a system's
  // scheme, host and port (never a path or query, which may carry personal data).
  // Recorded with the step's result; "" when the connector cannot say.
  std::string recipient;

  static CallOutcome success(Json output) {
    CallOutcome o;
    o.output = std::move(output);
    return o;
  }
  static CallOutcome failure(std::string code, std::string message, bool retryable) {
    CallOutcome o;
    o.ok = false;
    o.code = std::move(code);
    o.message = std::move(message);
    o.retryable = retryable;
    return o;
  }
};

// Looks up a secret by name (from the secrets file or the environment); nullopt when
// unknown. Connectors call it at the moment of use and never log, store or return the value.
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;

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

// One parameter or output field of an action.
struct ParamSpec {
  std::string name;
  std::string type = "any";  // string, integer, number, boolean, object, array, any
  bool required = false;
  std::string description;
};

// What an action is, so `vigil validate` can check each `uses:` and the audit trail can say
// what the call did with personal data.
struct ActionSpec {
  std::string name;
  std::string description;
  std::vector<ParamSpec> params;
  std::vector<ParamSpec> outputs;
  bool openParams = false;  // accepts parameters beyond `params` (e.g. a templated body)
  // consultation (reads another system), disclosure (sends data out), alteration
  // (changes a record elsewhere): the kind of the audit record of each call.
  std::string access = "consultation";
};

class Connector {
 public:
  virtual ~Connector() = default;
  virtual CallOutcome call(const ConnectorCall& call) = 0;
  // The actions this connector offers. Empty: undeclared, any action name is accepted
  // (and nothing about its parameters is checked).
  virtual std::vector<ActionSpec> actions() const { return {}; }
  virtual std::string description() const { return ""; }
  // Problems visible before any run: `with` is the call's parameters with every computed
  // (templated) value left out. For example a literal URL outside the outbound allow-list.
  // Each problem is one line naming the parameter.
  virtual std::vector<std::string> checkStatic(const std::string& action, const Json& with) const {
    (void)action;
    (void)with;
    return {};
  }
};

// Connectors by name, each with a limit on calls in flight at once. Passed around, never
// global; registering a name twice is an error. Thread-safe.
class ConnectorRegistry {
 public:
  // `maxPerSecond` > 0 spaces calls to that connector evenly so that no second holds more
  // than that many starts (for example 5 a second to a national system).
  Status add(const std::string& name, std::shared_ptr<Connector> connector, int maxConcurrency = 16,
             double maxPerSecond = 0);
  double maxPerSecond(const std::string& name) const;
  // Changes a registered connector's limits (configuration applied after registration).
  Status setLimits(const std::string& name, int maxConcurrency, double maxPerSecond);
  std::shared_ptr<Connector> find(const std::string& name) const;
  int maxConcurrency(const std::string& name) const;
  std::vector<std::string> names() const;
  // The declared action `connector.action`, if the connector declares its actions. The
  // declarations are read once, at registration.
  std::optional<ActionSpec> action(const std::string& connector, const std::string& action) const;
  // Its declared access (consultation, disclosure, alteration), or "" when it declares
  // none: read for every audited call, so it copies nothing.
  std::string access(const std::string& connector, const std::string& action) const;
  // Checks every `uses:` of `workflow` against the registered connectors: the action is one
  // its connector declares, parameters are known and required ones given; and, when
  // `requireConnectors`, that each named connector is registered at all.
  std::vector<struct Diagnostic> check(const struct Workflow& workflow, bool requireConnectors = true) const;
  // The connectors `workflow` names that are not registered.
  std::vector<std::string> missing(const struct Workflow& workflow) const;

 private:
  struct Entry {
    std::shared_ptr<Connector> connector;
    int maxConcurrency;
    double maxPerSecond;
    std::map<std::string, ActionSpec> actions;  // as declared at registration
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace vigil

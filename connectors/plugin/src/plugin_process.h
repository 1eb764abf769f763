// PluginProcess: one started plugin that has said hello, and the protocol spoken with it.
//
// Any fault (crash, hang, garbage, flood) leaves the process unhealthy: the owner drops it,
// which kills and reaps it, and starts a fresh one for the next call. Not thread-safe: a
// process serves one call at a time, under its pool slot's lock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "child_process.h"
#include "line_channel.h"
#include "protocol.h"
#include "vigil/connector.h"
#include "vigil/plugin_connector.h"

namespace vigil::plugin {

class PluginProcess {
 public:
  // Starts the plugin and reads its hello before `deadline`. On failure returns null and
  // fills `failure` (code plugin_unavailable, timeout, plugin_crashed or plugin_protocol;
  // the message names the plugin).
  static std::unique_ptr<PluginProcess> start(const PluginOptions& options, Deadline deadline, CallOutcome& failure);

  ~PluginProcess();  // asks the plugin to exit (stdin closed), kills it after a short grace

  const Hello& hello() const { return hello_; }
  // False after any fault: the process must not serve another call.
  bool healthy() const { return healthy_; }
  // True when the process died while idle (reaped); it must be replaced, no call was lost.
  bool diedWhileIdle();

  // Sends `call` and waits for its result until `deadline`.
  CallOutcome call(const ConnectorCall& call, Deadline deadline);

 private:
  PluginProcess(const PluginOptions& options, std::unique_ptr<ChildProcess> child);
  CallOutcome fault(const std::string& code, const std::string& what, bool retryable);
  CallOutcome crashed(const std::string& when);

  std::string name_;
  std::size_t maxLineBytes_;
  std::unique_ptr<ChildProcess> child_;
  LineReader reader_;
  Hello hello_;
  std::uint64_t nextId_ = 1;
  bool healthy_ = true;
};

}  // namespace vigil::plugin

#include "plugin_process.h"

#include <algorithm>

namespace vigil::plugin {
namespace {

// Time for a plugin whose stdout just closed to finish dying, so the message can say how.
constexpr std::chrono::milliseconds kExitGrace{300};
// Time a healthy plugin gets to exit by itself once its stdin closes.
constexpr std::chrono::milliseconds kStopGrace{500};

std::vector<std::string> minimalEnvironment() {
  // Nothing of the daemon's environment (secrets, tokens) reaches the plugin.
  return {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "VIGIL_PLUGIN_PROTOCOL=" + std::to_string(kProtocolVersion)};
}

}  // namespace

std::unique_ptr<PluginProcess> PluginProcess::start(const PluginOptions& options, Deadline deadline,
                                                    CallOutcome& failure) {
  const std::string who = "plugin '" + options.name + "'";
  auto child = ChildProcess::spawn({options.argv, options.workingDir, minimalEnvironment(), options.ownCgroup});
  if (!child) {
    failure = CallOutcome::failure("plugin_unavailable", who + ": " + child.status().message(), true);
    return nullptr;
  }
  std::unique_ptr<PluginProcess> p(new PluginProcess(options, std::move(child).value()));
  deadline = std::min(deadline, std::chrono::steady_clock::now() + options.startTimeout);

  IoResult w = writeAll(p->child_->stdinFd(), helloLine(), deadline);
  std::string line;
  IoResult r = w == IoResult::kOk ? p->reader_.readLine(line, deadline) : w;
  switch (r) {
    case IoResult::kOk:
      break;
    case IoResult::kTimeout:
      failure = CallOutcome::failure(
          "timeout", who + " sent no hello within " + std::to_string(options.startTimeout.count()) + " ms", true);
      return nullptr;
    case IoResult::kClosed:
      failure = CallOutcome::failure("plugin_crashed",
                                     who + " " + p->child_->reapWithin(kExitGrace) + " before its hello", true);
      return nullptr;
    case IoResult::kTooLong:
      failure = CallOutcome::failure("plugin_protocol", who + ": its hello is longer than the line limit", false);
      return nullptr;
  }
  auto hello = parseHello(line);
  if (!hello) {
    failure = CallOutcome::failure("plugin_protocol", who + ": " + hello.status().message(), false);
    return nullptr;
  }
  p->hello_ = std::move(hello).value();
  return p;
}

PluginProcess::PluginProcess(const PluginOptions& options, std::unique_ptr<ChildProcess> child)
    : name_(options.name),
      maxLineBytes_(options.maxLineBytes),
      child_(std::move(child)),
      reader_(child_->stdoutFd(), options.maxLineBytes) {}

PluginProcess::~PluginProcess() {
  if (healthy_) {
    child_->closeStdin();
    child_->reapWithin(kStopGrace);
  }
  // ~ChildProcess kills the group and reaps whatever is still there.
}

bool PluginProcess::diedWhileIdle() { return child_->reapIfExited().has_value(); }

CallOutcome PluginProcess::fault(const std::string& code, const std::string& what, bool retryable) {
  healthy_ = false;
  child_->kill();
  return CallOutcome::failure(code, "plugin '" + name_ + "' " + what, retryable);
}

CallOutcome PluginProcess::crashed(const std::string& when) {
  healthy_ = false;
  std::string how = child_->reapWithin(kExitGrace);
  return CallOutcome::failure("plugin_crashed", "plugin '" + name_ + "' " + how + " " + when, true);
}

CallOutcome PluginProcess::call(const ConnectorCall& call, Deadline deadline) {
  const std::uint64_t id = nextId_++;
  auto budget = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  const std::string timeoutText = "did not answer within " + std::to_string(std::max<long long>(budget.count(), 0)) +
                                  " ms; killed";

  switch (writeAll(child_->stdinFd(), callLine(id, call, budget), deadline)) {
    case IoResult::kOk:
      break;
    case IoResult::kTimeout:
      return fault("timeout", timeoutText, true);
    case IoResult::kClosed:
    case IoResult::kTooLong:
      return crashed("before reading the call");
  }
  std::string line;
  switch (reader_.readLine(line, deadline)) {
    case IoResult::kOk:
      break;
    case IoResult::kTimeout:
      return fault("timeout", timeoutText, true);
    case IoResult::kClosed:
      return crashed("during the call (stdout closed)");
    case IoResult::kTooLong:
      return fault("plugin_protocol",
                   "answered a line longer than " + std::to_string(maxLineBytes_) + " bytes; killed", false);
  }
  auto outcome = parseResult(line, id);
  if (!outcome) {
    return fault("plugin_protocol", outcome.status().message() + "; killed", false);
  }
  return std::move(outcome).value();
}

}  // namespace vigil::plugin

// The plugin connector: a pool of warm plugin processes behind the Connector interface.
#include "vigil/plugin_connector.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>

#include "plugin_process.h"

namespace vigil {
namespace {

using plugin::Deadline;
using plugin::PluginProcess;

class PluginConnector final : public Connector {
 public:
  PluginConnector(PluginOptions options, plugin::Hello hello, std::unique_ptr<PluginProcess> first)
      : options_(std::move(options)), hello_(std::move(hello)) {
    slots_.resize(static_cast<std::size_t>(hello_.maxConcurrency));
    slots_[0] = std::move(first);
    for (std::size_t i = slots_.size(); i > 0; --i) {
      free_.push_back(i - 1);  // slot 0 (already warm) is taken first
    }
  }

  CallOutcome call(const ConnectorCall& call) override {
    try {
      return callChecked(call);
    } catch (const std::exception&) {
      // Only allocation failure or a thread error can land here; the step gets a clear error.
      return CallOutcome::failure("plugin_internal", "plugin '" + options_.name + "': internal error", true);
    }
  }

  std::vector<ActionSpec> actions() const override { return hello_.actions; }
  std::string description() const override { return "out-of-process plugin '" + hello_.name + "'"; }

 private:
  // Hands out one slot (one process) at a time to a caller; returns it on destruction.
  class Lease {
   public:
    Lease(PluginConnector& owner, std::size_t index) : owner_(owner), index_(index) {}
    ~Lease() {
      {
        std::lock_guard<std::mutex> lock(owner_.mu_);
        owner_.free_.push_back(index_);
      }
      owner_.cv_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    std::unique_ptr<PluginProcess>& process() { return owner_.slots_[index_]; }

   private:
    PluginConnector& owner_;
    std::size_t index_;
  };

  CallOutcome callChecked(const ConnectorCall& call) {
    const std::string who = "plugin '" + options_.name + "'";
    bool known = std::any_of(hello_.actions.begin(), hello_.actions.end(),
                             [&](const ActionSpec& a) { return a.name == call.action; });
    if (!known) {
      return CallOutcome::failure("unknown_action", who + " has no action '" + call.action + "'", false);
    }
    auto now = std::chrono::steady_clock::now();
    Deadline deadline = now + options_.callTimeout;
    if (call.deadline) {
      // The call's deadline is wall-clock time; the rest of the work runs on the steady clock.
      auto left = *call.deadline - std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
      deadline = std::min(deadline, now + left);
    }
    if (deadline <= now) {
      return CallOutcome::failure("timeout", who + ": the call's deadline had already passed", true);
    }

    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return !free_.empty(); })) {
      return CallOutcome::failure("timeout", who + ": no process was free before the deadline", true);
    }
    std::size_t index = free_.back();
    free_.pop_back();
    lock.unlock();
    Lease lease(*this, index);

    auto& process = lease.process();
    if (process && process->diedWhileIdle()) {
      process.reset();  // died between calls: nothing was lost, start afresh
    }
    if (!process) {
      CallOutcome failure;
      process = PluginProcess::start(options_, deadline, failure);
      if (!process) {
        return failure;
      }
    }
    CallOutcome outcome = process->call(call, deadline);
    if (!process->healthy()) {
      process.reset();  // already killed and reaped; the next call starts a new one
    }
    return outcome;
  }

  const PluginOptions options_;
  const plugin::Hello hello_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::size_t> free_;  // GUARDED_BY(mu_)
  // Each slot is touched only by the caller holding its Lease; destroyed with the connector,
  // which stops every process.
  std::vector<std::unique_ptr<PluginProcess>> slots_;
};

}  // namespace

Status registerPlugin(ConnectorRegistry& registry, const PluginOptions& options) {
  if (options.name.empty()) {
    return Status::invalidArgument("plugin: no name given");
  }
  const std::string who = "plugin '" + options.name + "'";
  if (options.argv.empty() || options.argv[0].empty()) {
    return Status::invalidArgument(who + ": no executable given");
  }
  if (options.maxLineBytes < 1024 || options.callTimeout.count() <= 0 || options.startTimeout.count() <= 0) {
    return Status::invalidArgument(who + ": timeouts must be positive and the line limit at least 1024 bytes");
  }
  try {
    CallOutcome failure;
    auto first = PluginProcess::start(options, std::chrono::steady_clock::now() + options.startTimeout, failure);
    if (!first) {
      return Status::failedPrecondition(failure.message);
    }
    plugin::Hello hello = first->hello();
    int concurrency = hello.maxConcurrency;
    auto connector = std::make_shared<PluginConnector>(options, std::move(hello), std::move(first));
    return registry.add(options.name, std::move(connector), concurrency);
  } catch (const std::exception&) {
    return Status::internal(who + ": internal error while starting");
  }
}

}  // namespace vigil

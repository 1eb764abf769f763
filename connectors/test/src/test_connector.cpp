#include "vigil/test_connector.h"

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <thread>

namespace vigil {
namespace {

class TestConnector final : public Connector {
 public:
  explicit TestConnector(TestConnectorOptions o) : o_(std::move(o)) {
    if (!o_.logPath.empty()) fd_ = ::open(o_.logPath.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  }
  ~TestConnector() override {
    if (fd_ >= 0) ::close(fd_);
  }

  CallOutcome call(const ConnectorCall& c) override {
    const Json& in = c.input;
    if (c.action == "echo") return CallOutcome::success(in);
    if (c.action == "fail") {
      int upTo = in.is_object() ? in.value("attempts", 0) : 0;
      if (upTo > 0 && c.attempt > upTo) return CallOutcome::success({{"attempt", c.attempt}});
      return CallOutcome::failure(in.is_object() ? in.value("code", "test_failure") : "test_failure",
                                  in.is_object() ? in.value("message", "test.fail was asked to fail") : "test.fail was asked to fail",
                                  in.is_object() && in.value("retryable", false));
    }
    if (c.action == "sleep") {
      long ms = in.is_object() ? std::min<long>(in.value("ms", 0L), 10000L) : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return CallOutcome::success(in);
    }
    if (c.action == "count") {
      std::string key = in.is_object() ? in.value("key", "default") : "default";
      long n = 0;
      {
        std::lock_guard lock(mu_);
        n = ++counts_[key];
      }
      if (fd_ >= 0) {
        // A leading newline isolates a record torn by a crash mid-write from the next one.
        std::string line = "\n" + c.idempotencyKey + "\n";
        if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd_) != 0) {
          return CallOutcome::failure("io", "test.count could not record the call", true);
        }
      }
      return CallOutcome::success({{"count", n}});
    }
    return CallOutcome::failure("unknown_action", "test connector has no action '" + c.action + "'", false);
  }

 private:
  TestConnectorOptions o_;
  int fd_ = -1;
  std::mutex mu_;
  std::map<std::string, long> counts_;
};

}  // namespace

Status registerTestConnector(ConnectorRegistry& registry, const TestConnectorOptions& options) {
  return registry.add("test", std::make_shared<TestConnector>(options), options.maxConcurrency);
}

}  // namespace vigil

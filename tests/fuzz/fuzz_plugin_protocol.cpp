// Fuzzes what the daemon reads from an out-of-process plugin (connectors/plugin/,
// plugins/PROTOCOL.md): the input is everything a plugin writes on its stdout, read through
// the daemon's own LineReader over a pipe (line splitting, the line limit), the first line
// checked as its hello (parseHello: protocol version, actions, params, outputs, access,
// max_concurrency), and each following line as the result of call 1, 2, ... (parseResult:
// type, id, ok, output, code, message trimmed to 500 bytes, retryable). A hello that
// parses is registered as a connector and a workflow calling it is checked against its
// declared actions, as `vigil validate` does.
//
// Besides the sanitizers: a failure's message stays valid UTF-8 after trimming and within
// its limit; a hello's concurrency is within 1..64.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "line_channel.h"
#include "protocol.h"
#include "vigil/connector.h"
#include "vigil/loader.h"

namespace {

using vigil::fuzz::require;

// A registered plugin as the registry and the checker see it: its declared actions.
class DeclaredPlugin final : public vigil::Connector {
 public:
  explicit DeclaredPlugin(std::vector<vigil::ActionSpec> actions) : actions_(std::move(actions)) {}
  vigil::CallOutcome call(const vigil::ConnectorCall&) override { return vigil::CallOutcome::failure("unused", "", false); }
  std::vector<vigil::ActionSpec> actions() const override { return actions_; }

 private:
  std::vector<vigil::ActionSpec> actions_;
};

const vigil::Workflow& callingWorkflow() {
  static const auto wf = [] {
    auto r = vigil::loadWorkflow(R"(workflow: plugin-call
version: 1
owner: o
inputs: { name: string }
steps:
  - id: lookup
    uses: pnd_lookup.person_search
    purpose: safeguarding check
    with: { name: "${{ inputs.name }}", dob: "2015-04-01" }
)",
                                 "plugin-call.yaml");
    require(r.ok(), "the calling workflow loads");
    return r.workflow;
  }();
  return *wf;
}

bool validUtf8(const std::string& s) {
  try {
    (void)vigil::Json(s).dump();
    return true;
  } catch (const vigil::Json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  require(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0, "pipe");
  (void)::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // the whole input fits: no reader needed meanwhile
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::write(fds[1], data + done, size - done);
    require(n > 0, "write to the pipe");
    done += static_cast<size_t>(n);
  }
  ::close(fds[1]);  // the plugin's stdout closes after its last line

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  vigil::plugin::LineReader reader(fds[0], 4096);  // the daemon's minimum line limit is 1024
  std::string line;
  if (reader.readLine(line, deadline) == vigil::plugin::IoResult::kOk) {
    auto hello = vigil::plugin::parseHello(line);
    if (hello) {
      require(!hello->actions.empty(), "a hello declares an action");
      require(hello->maxConcurrency >= 1 && hello->maxConcurrency <= vigil::plugin::kMaxConcurrency, "concurrency capped");
      vigil::ConnectorRegistry registry;
      require(registry.add("pnd_lookup", std::make_shared<DeclaredPlugin>(hello->actions), hello->maxConcurrency).isOk(),
              "a parsed hello registers");
      (void)registry.check(callingWorkflow());
    }
    for (std::uint64_t id = 1; id <= 256 && reader.readLine(line, deadline) == vigil::plugin::IoResult::kOk; ++id) {
      auto outcome = vigil::plugin::parseResult(line, id);
      if (outcome && !outcome->ok) {
        require(!outcome->code.empty(), "a failure has a code");
        require(outcome->message.size() <= 500, "a failure's message is trimmed");
        require(validUtf8(outcome->message), "a trimmed message is valid UTF-8");
      }
    }
  }
  ::close(fds[0]);
  return 0;
}

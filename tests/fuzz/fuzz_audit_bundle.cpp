// Fuzzes what reads audit evidence and signed checkpoints (docs/AUDIT.md).
//
// The input is taken as a file an auditor is handed and as text a witness or a checkpoint
// log holds, through each reader:
//   - `vigil audit verify BUNDLE` (trusting a fixed key, and trusting the key inside the
//     bundle) and `vigil replay --bundle BUNDLE`: the real commands, their output muted:
//     the bundle's JSON, checkpoint, signed selection, records with their inclusion proofs,
//     consistency proofs, kept definitions and area files, and for a bundle that verifies,
//     its runs' chained events replayed;
//   - signed notes (note::parse, format, log signatures and witness cosignatures),
//     checkpoint bodies, checkpoint logs (note::parseLog), the signed selection's text
//     (parseAuditSelection) and a witness's add-checkpoint request (parseAddCheckpoint).
// The fixed key is the test fixture's (tests/audit/fixtures/schema-7-keys), which signed the
// bundles and notes of the seed corpus, so mutations of a seed get past its signatures into
// the records. The commands read paths, so the input goes to one file in a per-process
// scratch directory, reused.
//
// Besides the sanitizers: no command ends in an exception (main() reports one as an
// internal error, a bug); a note that parses formats back to text that parses the same; a
// selection that parses survives its own formatting.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "cli.h"
#include "fuzz_support.h"
#include "vigil/audit.h"
#include "vigil/note.h"
#include "vigil/signing.h"
#include "witness/witness.h"

namespace {

using vigil::fuzz::require;

constexpr const char* kTrustedKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEADUCpjGPcUgrvCYYZF/37XgVZCiWQK7MSA/Z2EDXrboQ=\n"
    "-----END PUBLIC KEY-----\n";

const std::string& rawKey() {
  static const std::string raw = vigil::rawPublicKeyOf(kTrustedKey);
  return raw;
}

int runCommand(const vigil::daemon::Command& command, std::vector<std::string> args) {
  static const auto log = std::make_shared<spdlog::logger>("fuzz");  // no sinks: silent
  vigil::daemon::CommandContext ctx;
  ctx.args = std::move(args);
  ctx.log = log;
  try {
    return command.run(ctx);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil %s ended in an exception: %s\n", command.name.c_str(), e.what());
    std::abort();
  }
}

void readNote(std::string_view text) {
  auto n = vigil::note::parse(text);
  if (!n) return;
  const std::string formatted = vigil::note::format(*n);
  auto again = vigil::note::parse(formatted);
  require(again && again->text == n->text && again->signatures.size() == n->signatures.size(), "a note formats back to itself");
  for (const auto& sig : n->signatures) {
    (void)vigil::note::verifiedByLog(*n, sig.name, rawKey());
    (void)vigil::note::cosignedAt(*n, sig.name, rawKey());
  }
  (void)vigil::note::parseCheckpoint(n->text);
  (void)vigil::parseAuditSelection(n->text);
}

void readSelection(std::string_view text) {
  auto s = vigil::parseAuditSelection(text);
  if (!s) return;
  auto again = vigil::parseAuditSelection(vigil::auditSelectionText(*s));
  require(again && again->origin == s->origin && again->size == s->size && again->root == s->root &&
              again->runId == s->runId && again->seqs == s->seqs && again->sources == s->sources,
          "a selection survives its own formatting");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The commands print their reports; libFuzzer and the sanitizers write to fd 2 directly.
  std::cout.setstate(std::ios::badbit);
  std::cerr.setstate(std::ios::badbit);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string bundle = vigil::fuzz::scratchDir() + "/bundle.json";
  static const std::string key = [] {
    const std::string path = vigil::fuzz::scratchDir() + "/trusted.pem";
    vigil::fuzz::writeFile(path, kTrustedKey, 0644);
    return path;
  }();
  static const vigil::daemon::Command audit = vigil::daemon::auditCommand();
  static const vigil::daemon::Command replay = vigil::daemon::replayCommand();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  vigil::fuzz::writeFile(bundle, text, 0644);
  (void)runCommand(audit, {"verify", bundle, "--public-key", key, "--json"});
  (void)runCommand(audit, {"verify", bundle, "--json"});
  (void)runCommand(replay, {"--bundle", bundle, "--public-key", key, "--json"});

  readNote(text);
  const vigil::note::LogRead log = vigil::note::parseLog(text);
  for (const auto& n : log.notes) readNote(vigil::note::format(n));
  (void)vigil::note::parseCheckpoint(text);
  readSelection(text);
  if (auto add = vigil::daemon::parseAddCheckpoint(text)) {
    require(add->proof.size() <= 63, "at most 63 proof lines");
    readNote(vigil::note::format(add->note));
  }
  return 0;
}

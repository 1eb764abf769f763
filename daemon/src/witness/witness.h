// Witness: the `vigil witness` service, a C2SP tlog-witness (https://c2sp.org/tlog-witness)
// for vigil's audit checkpoints, run by someone other than the daemon's administrators.
//
// For each log it follows (an origin and the log's public keys) it keeps the newest
// checkpoint it co-signed, and co-signs a new one only when the log's signature verifies
// and an RFC 9162 consistency proof shows the new tree extends the one it holds. A
// checkpoint that does not (a rewritten, restored or replaced store) is refused and the
// held one kept: that refusal is the whole point of a witness.
//
// State lives in DATA_DIR: the witness's own Ed25519 key (witness-ed25519.pem, 0600) and,
// per origin, logs/<hex SHA-256 of origin>.note, the co-signed note (the log's verified
// signatures and the witness's cosignature). A new state is on disk (written to a temporary
// file, fsynced, renamed, directory fsynced) before any 200 answer that depends on it.
//
// The service is plain functions over HttpRequest/HttpResponse, so it is tested without a
// socket; cmd_witness.cpp puts it behind HttpServer. Thread-safe: requests for one origin
// are serialised by that origin's mutex (the old-size check and the state update are one
// step, as the protocol requires), requests for different origins run in parallel. Logs
// every refusal at warning level with the origin and sizes, never a key.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "http/http_types.h"
#include "vigil/clock.h"
#include "vigil/merkle.h"
#include "vigil/note.h"
#include "vigil/signing.h"
#include "vigil/status.h"

namespace vigil::daemon {

// The largest add-checkpoint body accepted; larger is 400 (HttpServer's own limit, a little
// above, answers 413).
constexpr size_t kMaxWitnessRequest = 1 << 20;

// One log the witness follows: its origin (the key name of its signatures) and every
// public key, as 32 raw bytes, whose signature it accepts (after a rotation, old and new).
struct WitnessedLog {
  std::string origin;
  std::vector<std::string> publicKeys;
};

struct WitnessConfig {
  std::string dataDir;
  std::string name;  // the witness's key name in its cosignatures (note::validName)
  std::vector<WitnessedLog> logs;
};

// An add-checkpoint request body, parsed but not checked against any state or key.
struct AddCheckpointRequest {
  uint64_t oldSize = 0;
  std::vector<merkle::Hash> proof;  // at most 63 hashes
  note::Note note;
  note::Checkpoint checkpoint;  // of note.text
};

// "old SIZE\n", proof lines (base64 of 32 bytes), an empty line, a signed checkpoint note.
// invalidArgument, saying what is wrong, for anything else (the 400 answers).
Result<AddCheckpointRequest> parseAddCheckpoint(std::string_view body);

class Witness {
 public:
  // Creates DATA_DIR (0700) if needed, loads or creates the key, and loads the held
  // checkpoint of each configured log. invalidArgument for a bad name or log list;
  // ioError when the directory or key cannot be made or read; failedPrecondition when a
  // held state file is unreadable, is not a note for its origin, or carries no valid
  // cosignature by this witness's key (a lost key or a damaged state must not be papered
  // over: forgetting what it held would let it co-sign a rewritten log).
  static Result<std::unique_ptr<Witness>> open(WitnessConfig config, std::shared_ptr<Clock> clock,
                                               std::shared_ptr<spdlog::logger> log);
  ~Witness();
  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;

  // POST /add-checkpoint. 200 text/plain with the cosignature line ("— NAME BASE64\n"),
  // the new state durable; 400 malformed body or old size above the checkpoint's; 404
  // unknown origin; 403 no signature by a configured key verifies; 409 text/x.tlog.size
  // "<held size>\n" when the old size is not the held one; 422 when the proof does not show
  // the new tree extends the held one (a same-size checkpoint with another root included);
  // 500 when the state cannot be written (nothing co-signed, held state unchanged).
  HttpResponse addCheckpoint(std::string_view body);
  // GET /checkpoint?origin=ORIGIN: 200 text/plain, the held co-signed note; 404 when none.
  HttpResponse checkpoint(const std::string& origin) const;
  // GET /public-key: {"name", "public_key" (PEM), "key_id", "vkey" (signed-note verifier key)}.
  HttpResponse publicKey() const;
  // Routes the three calls; 404 for any other path, 405 for another method on theirs.
  HttpResponse handle(const HttpRequest& request);

  // The checkpoint held for `origin`; nullopt when none (or not a followed origin).
  std::optional<note::Checkpoint> held(const std::string& origin) const;
  const std::string& name() const;
  std::string publicKeyPem() const;

 private:
  struct Log;
  Witness(WitnessConfig config, SigningKey key, std::shared_ptr<Clock> clock, std::shared_ptr<spdlog::logger> log);

  const WitnessConfig config_;
  const SigningKey key_;
  const std::shared_ptr<Clock> clock_;
  const std::shared_ptr<spdlog::logger> log_;
  std::map<std::string, std::unique_ptr<Log>> logs_;  // by origin; the map is fixed after open()
};

}  // namespace vigil::daemon

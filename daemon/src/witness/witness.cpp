// The tlog-witness checks, in the order the protocol states them, and the durable state
// behind them: see witness.h.
#include "witness/witness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace vigil::daemon {

struct Witness::Log {
  std::vector<std::string> keys;  // raw 32-byte Ed25519 public keys of the log
  std::string path;               // DATA_DIR/logs/<hex sha256 of origin>.note
  mutable std::mutex mu;
  std::optional<note::Checkpoint> held;  // guarded by mu
  std::string note;                      // guarded by mu: the co-signed note, as served
};

namespace {

constexpr size_t kMaxProofLines = 63;

Status invalid(std::string message) { return Status::invalidArgument(std::move(message)); }

bool canonicalDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Signature lines alone, as the 200 answer carries them: a note's formatting with no text
// is a blank line and then exactly those lines.
std::string signatureLines(const note::Signature& s) { return note::format(note::Note{"", {s}}).substr(1); }

uint64_t unixSeconds(const Clock& clock) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
}

Status syncedWrite(int fd, const std::string& contents) {
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::ioError(std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Status::ioError(std::strerror(errno));
  return Status::ok();
}

// Replaces `path` so that a crash leaves either the old contents or the new, never a torn
// file, and the new contents have reached the disk when this returns ok: the witness
// answers 200 only after, so it never co-signs a checkpoint it might forget.
Status replaceDurably(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::ioError("cannot create " + tmp + ": " + std::strerror(errno));
  Status s = syncedWrite(fd, contents);
  ::close(fd);
  if (!s) return Status::ioError("cannot write " + tmp + ": " + s.message());
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::ioError("cannot rename " + tmp + ": " + std::strerror(errno));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::ioError("cannot open " + dir + " to sync it: " + std::strerror(errno));
  const bool synced = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!synced) return Status::ioError("cannot sync " + dir + ": " + std::strerror(errno));
  return Status::ok();
}

Status makePrivateDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Status::ok();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Status::ioError("cannot create " + dir + ": " + std::strerror(errno));
  return Status::ok();
}

// The held state of one log, checked as strictly as a request: the note must be a
// checkpoint of `origin` that this witness co-signed.
Result<std::pair<note::Checkpoint, std::string>> loadHeld(const std::string& path, const std::string& origin,
                                                          const std::string& witnessName, const SigningKey& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::failedPrecondition("cannot read the witness state " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  auto n = note::parse(text);
  auto c = n ? note::parseCheckpoint(n->text) : std::nullopt;
  if (!c || c->origin != origin) {
    return Status::failedPrecondition("the witness state " + path + " is not a checkpoint of " + origin +
                                      "; restore it from a backup (deleting it would let this witness co-sign a rewritten log)");
  }
  if (!note::cosignedAt(*n, witnessName, key.publicKeyRaw())) {
    return Status::failedPrecondition("the witness state " + path + " carries no cosignature by " + witnessName + " (key id " +
                                      key.keyId() + "): was --name or the key file changed?");
  }
  return std::make_pair(*c, text);
}

}  // namespace

Result<AddCheckpointRequest> parseAddCheckpoint(std::string_view body) {
  if (body.size() > kMaxWitnessRequest) return invalid("the request is over " + std::to_string(kMaxWitnessRequest) + " bytes");
  AddCheckpointRequest req;
  size_t eol = body.find('\n');
  if (eol == std::string_view::npos || body.substr(0, 4) != "old " || !canonicalDecimal(body.substr(4, eol - 4), &req.oldSize)) {
    return invalid("the request must start with 'old SIZE' (a decimal, no leading zeros)");
  }
  body.remove_prefix(eol + 1);
  while (true) {
    eol = body.find('\n');
    if (eol == std::string_view::npos) return invalid("no empty line between the proof and the checkpoint");
    const std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol + 1);
    if (line.empty()) break;
    if (req.proof.size() == kMaxProofLines) return invalid("more than 63 consistency proof lines");
    auto h = note::unbase64(line);
    if (!h || h->size() != merkle::Hash{}.size()) {
      return invalid("consistency proof line " + std::to_string(req.proof.size() + 1) + " is not the base64 of a 32-byte hash");
    }
    merkle::Hash hash;
    std::copy(h->begin(), h->end(), hash.begin());
    req.proof.push_back(hash);
  }
  auto n = note::parse(body);
  if (!n) return invalid("the checkpoint is not a signed note");
  auto c = note::parseCheckpoint(n->text);
  if (!c) return invalid("the note is not a checkpoint (origin, tree size, base64 root)");
  req.note = std::move(*n);
  req.checkpoint = std::move(*c);
  return req;
}

Witness::Witness(WitnessConfig config, SigningKey key, std::shared_ptr<Clock> clock, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)), key_(std::move(key)), clock_(std::move(clock)), log_(std::move(log)) {}

Witness::~Witness() = default;

Result<std::unique_ptr<Witness>> Witness::open(WitnessConfig config, std::shared_ptr<Clock> clock,
                                               std::shared_ptr<spdlog::logger> log) {
  if (!note::validName(config.name)) {
    return invalid("the witness name '" + config.name + "' must be one word of printable ASCII without '+'");
  }
  if (config.logs.empty()) return invalid("a witness needs at least one log to follow");
  std::map<std::string, std::vector<std::string>> keys;  // several entries for one origin merge
  for (const auto& l : config.logs) {
    if (!note::validName(l.origin)) return invalid("the log origin '" + l.origin + "' is not a valid key name");
    for (const auto& k : l.publicKeys) {
      if (k.size() != 32) return invalid("a public key of " + l.origin + " is not a 32-byte Ed25519 key");
      keys[l.origin].push_back(k);
    }
    if (keys[l.origin].empty()) return invalid("the log " + l.origin + " has no public key");
  }
  const std::string logsDir = config.dataDir + "/logs";
  for (const auto& dir : {config.dataDir, logsDir}) {
    if (Status s = makePrivateDir(dir); !s) return s;
  }
  auto key = SigningKey::loadOrCreate(config.dataDir + "/witness-ed25519.pem");
  if (!key) return key.status();
  auto w = std::unique_ptr<Witness>(new Witness(std::move(config), std::move(key).value(), std::move(clock), std::move(log)));
  for (auto& [origin, originKeys] : keys) {
    auto l = std::make_unique<Log>();
    l->keys = std::move(originKeys);
    l->path = logsDir + "/" + merkle::toHex(merkle::sha256(origin)) + ".note";
    std::error_code ec;
    std::filesystem::remove(l->path + ".tmp", ec);  // a write a crash interrupted: the old state stands
    if (std::filesystem::exists(l->path, ec)) {
      auto held = loadHeld(l->path, origin, w->config_.name, w->key_);
      if (!held) return held.status();
      l->held = held->first;
      l->note = std::move(held->second);
      w->log_->info("witness holds {} at {} records", origin, l->held->size);
    }
    w->logs_.emplace(origin, std::move(l));
  }
  return w;
}

HttpResponse Witness::addCheckpoint(std::string_view body) {
  auto req = parseAddCheckpoint(body);
  if (!req) {
    log_->warn("add-checkpoint refused (400): {}", req.status().message());
    return HttpResponse::error(400, "bad_request", req.status().message());
  }
  const note::Checkpoint& c = req->checkpoint;
  auto found = logs_.find(c.origin);
  if (found == logs_.end()) {
    log_->warn("add-checkpoint refused (404): {} (size {}) is not a log this witness follows", c.origin, c.size);
    return HttpResponse::error(404, "unknown_log", c.origin + " is not a log this witness follows");
  }
  Log& l = *found->second;
  // Signatures by keys it does not know are ignored (and not kept); one that verifies is enough.
  note::Note kept{req->note.text, {}};
  for (const auto& s : req->note.signatures) {
    const note::Note one{req->note.text, {s}};
    for (const auto& k : l.keys) {
      if (note::verifiedByLog(one, c.origin, k)) {
        kept.signatures.push_back(s);
        break;
      }
    }
  }
  if (kept.signatures.empty()) {
    log_->warn("add-checkpoint refused (403): {} at {} records carries no valid signature by a key of that log", c.origin, c.size);
    return HttpResponse::error(403, "bad_signature", "no signature by a configured key of " + c.origin + " verifies");
  }
  if (req->oldSize > c.size) {
    log_->warn("add-checkpoint refused (400): {}: old size {} is above the checkpoint's {}", c.origin, req->oldSize, c.size);
    return HttpResponse::error(400, "bad_request", "old size " + std::to_string(req->oldSize) + " is above the checkpoint's size");
  }

  std::lock_guard lock(l.mu);
  const uint64_t heldSize = l.held ? l.held->size : 0;
  if (req->oldSize != heldSize) {
    // The usual way a log learns what this witness holds (it starts from 0): not a warning.
    log_->info("add-checkpoint refused (409): {}: old size {} but the witness holds {} (checkpoint at {})", c.origin, req->oldSize,
               heldSize, c.size);
    HttpResponse r;
    r.status = 409;
    r.contentType = "text/x.tlog.size";
    r.body = std::to_string(heldSize) + "\n";
    return r;
  }
  // Nothing held is the empty tree, which every tree extends; equal sizes need equal roots.
  const merkle::Hash heldRoot = l.held ? l.held->root : merkle::emptyRoot();
  if (!merkle::verifyConsistency(heldSize, c.size, heldRoot, c.root, req->proof)) {
    const std::string why = heldSize == c.size ? "another root at the same size (a fork)" : "the consistency proof fails";
    log_->warn("add-checkpoint refused (422): {}: checkpoint at {} records, the witness holds {}: {}; kept the held one", c.origin,
               c.size, heldSize, why);
    return HttpResponse::error(422, "inconsistent",
                               "the checkpoint at " + std::to_string(c.size) + " records does not extend the one held at " +
                                   std::to_string(heldSize) + ": " + why);
  }
  const note::Signature cosignature = note::cosign(kept.text, config_.name, key_, unixSeconds(*clock_));
  kept.signatures.push_back(cosignature);
  std::string keptNote = note::format(kept);
  if (Status s = replaceDurably(l.path, keptNote); !s) {
    log_->error("add-checkpoint of {} at {} records not co-signed: {}", c.origin, c.size, s.message());
    return HttpResponse::error(500, "state_not_written", "the witness cannot keep the checkpoint; nothing was co-signed");
  }
  l.held = c;
  l.note = std::move(keptNote);
  log_->info("co-signed {} at {} records (held {})", c.origin, c.size, heldSize);
  HttpResponse r;
  r.contentType = "text/plain";
  r.body = signatureLines(cosignature);
  return r;
}

HttpResponse Witness::checkpoint(const std::string& origin) const {
  auto found = logs_.find(origin);
  if (found != logs_.end()) {
    std::lock_guard lock(found->second->mu);
    if (found->second->held) {
      HttpResponse r;
      r.contentType = "text/plain";
      r.body = found->second->note;
      return r;
    }
  }
  return HttpResponse::error(404, "not_found", "this witness holds no checkpoint of " + origin);
}

HttpResponse Witness::publicKey() const {
  const std::string raw = key_.publicKeyRaw();
  const std::string keyHash = note::cosignatureKeyHash(config_.name, raw);
  return HttpResponse::json(200, {{"name", config_.name},
                                  {"public_key", key_.publicKeyPem()},
                                  {"key_id", key_.keyId()},
                                  {"vkey", config_.name + "+" + merkle::bytesToHex(keyHash) + "+" + note::base64("\x04" + raw)}});
}

HttpResponse Witness::handle(const HttpRequest& request) {
  auto only = [&](const char* method) {
    HttpResponse r = HttpResponse::error(405, "method_not_allowed", "method " + request.method + " is not allowed here");
    r.headers["Allow"] = method;
    return r;
  };
  if (request.path == "/add-checkpoint") {
    return request.method == "POST" ? addCheckpoint(request.body) : only("POST");
  }
  if (request.path == "/checkpoint") {
    if (request.method != "GET") return only("GET");
    auto origin = request.query.find("origin");
    if (origin == request.query.end() || origin->second.empty()) {
      return HttpResponse::error(400, "bad_request", "name the log: /checkpoint?origin=ORIGIN", "origin");
    }
    return checkpoint(origin->second);
  }
  if (request.path == "/public-key") return request.method == "GET" ? publicKey() : only("GET");
  return HttpResponse::error(404, "not_found", "no such path: the witness serves /add-checkpoint, /checkpoint and /public-key");
}

std::optional<note::Checkpoint> Witness::held(const std::string& origin) const {
  auto found = logs_.find(origin);
  if (found == logs_.end()) return std::nullopt;
  std::lock_guard lock(found->second->mu);
  return found->second->held;
}

const std::string& Witness::name() const { return config_.name; }

std::string Witness::publicKeyPem() const { return key_.publicKeyPem(); }

}  // namespace vigil::daemon

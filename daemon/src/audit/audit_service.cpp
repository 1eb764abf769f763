#include "audit/audit_service.h"

#include "vigil/retention.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>

#include "vigil/loader.h"
#include "vigil/note.h"

namespace vigil::daemon {
namespace {


// Reads a 0600 secret file, creating it with 32 random bytes if missing.
Result<std::string> loadOrCreateSecret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return Status::failedPrecondition(path + " is readable by group or others; chmod 600 it");
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() < 32) return Status::failedPrecondition(path + " is too short to be a key");
    return ss.str();
  }
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) return Status::internal("no randomness for a new key");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::ioError("cannot create " + path);
  bool ok = ::write(fd, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::ioError("cannot write " + path);
  return std::string(reinterpret_cast<char*>(buf), sizeof buf);
}

Status writePublicKey(const std::string& path, const std::string& pem) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << pem;
    if (!out) return Status::ioError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::ioError("cannot write " + path + ": " + ec.message());
  return Status::ok();
}

}  // namespace

AuditPaths AuditPaths::inDataDir(const std::string& dataDir) {
  return AuditPaths{dataDir + "/keys/audit-ed25519.pem", dataDir + "/keys/audit-ed25519.pub.pem", dataDir + "/keys/subject.key",
                    dataDir + "/keys/audit-origin", dataDir + "/areas"};
}

Result<std::string> loadOrCreateOrigin(const std::string& path, const std::string& configured, const std::string& keyId) {
  std::ifstream in(path);
  std::string origin;
  const bool kept = in && std::getline(in, origin);
  if (!configured.empty()) {
    // Kept beside the keys too, so an offline verifier finds the name witnesses know.
    if (origin != configured) {
      if (Status s = writePublicKey(path, configured + "\n"); !s) return s;
    }
    return configured;
  }
  if (kept) {
    if (!note::validName(origin)) return Status::invalidArgument(path + " does not hold a log name (one word of printable ASCII)");
    return origin;
  }
  // Named after the first signing key, so two data directories never share a name at a
  // witness by accident; it stays when the key is rotated.
  origin = "vigil/audit/" + keyId;
  if (Status s = writePublicKey(path, origin + "\n"); !s) return s;
  return origin;
}

Status appendCheckpointLog(const std::string& path, const std::string& note) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return Status::ioError("cannot open the checkpoint log " + path + ": " + std::strerror(errno));
  const std::string entry = note + "\n";
  ssize_t n = ::write(fd, entry.data(), entry.size());
  const bool ok = n == static_cast<ssize_t>(entry.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return Status::ioError("cannot append to the checkpoint log " + path + ": " + std::strerror(err));
  return Status::ok();
}

Status holdStoreToLog(Store& store, const std::string& path, const std::string& origin) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ok();  // no log yet: the first checkpoint starts it
  std::stringstream ss;
  ss << in.rdbuf();
  note::LogRead read = note::parseLog(ss.str());
  if (read.notes.empty()) {
    return read.problem.empty() ? Status::ok()
                                : Status::failedPrecondition("the checkpoint log " + path + " cannot be read: " + read.problem);
  }
  auto last = note::parseCheckpoint(read.notes.back().text);
  if (!last) return Status::failedPrecondition("the last note in the checkpoint log " + path + " is not a checkpoint");
  if (last->origin != origin) {
    return Status::failedPrecondition("the checkpoint log " + path + " is the log of '" + last->origin + "', not of '" + origin +
                                      "' (audit.origin or keys/audit-origin): point audit.checkpoint_log at this log's own file");
  }
  auto leaves = store.audit().leaves(last->size);
  if (!leaves) return leaves.status();
  const std::string fix = ": the store was replaced, truncated or rewritten since; vigil will not sign over it "
                          "(docs/AUDIT.md, 'When the store does not match the checkpoint log')";
  if (leaves->size() < last->size) {
    return Status::failedPrecondition("the store holds " + std::to_string(leaves->size()) + " audit records but the checkpoint log " +
                                      path + " says the log had " + std::to_string(last->size) + fix);
  }
  if (merkle::rootOf(*leaves, 0, last->size) != last->root) {
    return Status::failedPrecondition("the store's first " + std::to_string(last->size) +
                                      " audit records do not match the checkpoint log " + path + fix);
  }
  return Status::ok();
}

Result<std::unique_ptr<AuditService>> AuditService::open(const AuditPaths& paths, Store* store, std::shared_ptr<Clock> clock,
                                                         std::shared_ptr<spdlog::logger> log,
                                                         const CheckpointPublishing& publishing) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(paths.signingKey).parent_path(), ec);
  std::filesystem::permissions(std::filesystem::path(paths.signingKey).parent_path(), std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  auto key = SigningKey::loadOrCreate(paths.signingKey);
  if (!key) return key.status();
  auto subject = loadOrCreateSecret(paths.subjectKey);
  if (!subject) return subject.status();
  if (Status s = writePublicKey(paths.publicKey, key->publicKeyPem()); !s) return s;
  if (Status s = store->audit().addKey(AuditKey{key->keyId(), key->publicKeyPem()}, clock->now()); !s) return s;
  auto origin = loadOrCreateOrigin(paths.origin, publishing.origin, key->keyId());
  if (!origin) return origin.status();
  if (!publishing.checkpointLog.empty()) {
    if (Status s = holdStoreToLog(*store, publishing.checkpointLog, *origin); !s) return s;
  }
  std::unique_ptr<AuditService> service(new AuditService(paths, store, std::move(clock), std::move(log), std::move(key).value(),
                                                         std::move(subject).value(), *origin, publishing.checkpointLog));
  if (!publishing.witnesses.empty()) {
    service->pusher_ = std::make_unique<WitnessPusher>(
        publishing.witnesses, [store](uint64_t n) { return store->audit().leaves(n); }, service->log_);
  }
  return service;
}

AuditService::AuditService(AuditPaths paths, Store* store, std::shared_ptr<Clock> clock,
                           std::shared_ptr<spdlog::logger> log, SigningKey key, std::string subjectKey, std::string origin,
                           std::string checkpointLog)
    : paths_(std::move(paths)), store_(store), clock_(std::move(clock)), log_(std::move(log)), key_(std::move(key)),
      subjectKey_(std::move(subjectKey)), origin_(std::move(origin)), checkpointLog_(std::move(checkpointLog)) {}

AuditService::~AuditService() { stop(); }

std::string AuditService::publicKeyPem() const {
  std::lock_guard lock(keyMu_);
  return key_.publicKeyPem();
}

std::string AuditService::keyId() const {
  std::lock_guard lock(keyMu_);
  return key_.keyId();
}

void AuditService::setWriter(std::function<Status(std::vector<AuditEntry>)> writer) {
  std::lock_guard lock(writerMu_);
  writer_ = std::move(writer);
}

Status AuditService::record(AuditEntry entry) {
  if (entry.time == TimePoint{}) entry.time = clock_->now();
  std::function<Status(std::vector<AuditEntry>)> writer;
  {
    std::lock_guard lock(writerMu_);
    writer = writer_;
  }
  Status s = writer ? writer({entry}) : Status::failedPrecondition("no writer");
  // The engine has stopped (shutting down): this process is the only writer, so the
  // store may take the record directly.
  if (!s && s.code() == Status::Code::kFailedPrecondition) s = store_->audit().append({std::move(entry)});
  if (!s) log_->error("an audit record could not be written: {}", s.message());
  return s;
}

Result<std::optional<AuditCheckpoint>> AuditService::signAndPublish() {
  auto c = store_->audit().checkpoint(key_, clock_->now(), origin_);
  if (!c || !c->has_value()) return c;
  const AuditCheckpoint& cp = **c;
  if (!checkpointLog_.empty()) {
    if (Status s = appendCheckpointLog(checkpointLog_, cp.note); !s) {
      ++logFailures_;
      log_->error("{} (checkpoint at {} record(s) is in the store only until the next one is logged)", s.message(), cp.size);
    }
  }
  if (pusher_) pusher_->push(cp);
  return c;
}

std::vector<AuditAnchor> AuditService::logAnchors() const {
  if (checkpointLog_.empty()) return {};
  std::ifstream in(checkpointLog_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  note::LogRead read = note::parseLog(ss.str());
  if (read.notes.empty()) return {};
  return {AuditAnchor{note::format(read.notes.back()), "the checkpoint log " + checkpointLog_}};
}

bool AuditService::checkpoint() {
  std::lock_guard lock(keyMu_);
  auto c = signAndPublish();
  if (!c) {
    log_->error("audit checkpoint failed: {}", c.status().message());
    return false;
  }
  if (c->has_value()) log_->debug("audit checkpoint at {} record(s), root {}", (*c)->size, (*c)->root.substr(0, 16));
  return true;
}

void AuditService::setRetention(std::map<std::string, int> days) {
  std::lock_guard lock(retentionMu_);
  retention_ = std::move(days);
}

size_t AuditService::sweepRetention() {
  std::map<std::string, int> policies;
  {
    std::lock_guard lock(retentionMu_);
    policies = retention_;
    lastSweep_ = std::chrono::steady_clock::now();
  }
  size_t total = 0;
  const TimePoint now = clock_->now();
  for (const auto& [workflow, days] : policies) {
    const TimePoint cutoff = now - std::chrono::hours(24) * days;
    const std::string why = "retention: " + workflow + " keeps personal data " + std::to_string(days) + " days";
    for (int batch = 0; batch < 1000; ++batch) {  // bounded: 500,000 runs a sweep
      auto pass = eraseExpiredRuns(*store_, workflow, cutoff, now, why, 500);
      if (!pass) {
        log_->error("retention of {} stopped: {}", workflow, pass.status().message());
        break;
      }
      total += pass->erased.size();
      for (const auto& [id, reason] : pass->skipped) log_->warn("retention left run {} as it is: {}", id, reason);
      if (pass->candidates < 500 || pass->erased.empty()) break;  // none left, or only ones to leave
    }
  }
  if (total > 0) log_->info("retention erased the personal data of {} finished run(s)", total);
  return total;
}

void AuditService::startTimer(std::chrono::milliseconds interval) {
  timer_ = std::thread([this, interval] {
    sweepRetention();
    std::unique_lock lock(timerMu_);
    while (!timerCv_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      checkpoint();
      bool due = false;
      {
        std::lock_guard r(retentionMu_);
        due = std::chrono::steady_clock::now() - lastSweep_ >= std::chrono::hours(1);
      }
      if (due) sweepRetention();
      lock.lock();
    }
  });
}

void AuditService::stop() {
  {
    std::lock_guard lock(timerMu_);
    stopping_ = true;
  }
  timerCv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void AuditService::stopWitnesses(std::chrono::milliseconds drainFor) {
  if (!pusher_) return;
  // The checkpoint signed at shutdown goes out too, if the witnesses answer in time.
  pusher_->drain(drainFor);
  pusher_->stop();
}

Status AuditService::rotateKey() {
  std::lock_guard lock(keyMu_);
  // The old key signs everything up to the hand-over before it goes.
  if (auto c = signAndPublish(); !c) return c.status();
  const std::string retired = paths_.signingKey + "." + key_.keyId() + ".retired";
  std::error_code ec;
  std::filesystem::rename(paths_.signingKey, retired, ec);
  if (ec) return Status::ioError("cannot retire the old signing key: " + ec.message());
  auto fresh = SigningKey::loadOrCreate(paths_.signingKey);
  if (!fresh) {
    std::filesystem::rename(retired, paths_.signingKey, ec);
    return fresh.status();
  }
  AuditEntry e;
  e.time = clock_->now();
  e.kind = "admin";
  e.actor = "system:vigil";
  e.system = "vigil";
  e.purpose = "audit signing key rotation";
  e.payload = {{"event", "audit_key_rotated"},
               {"old_key_id", key_.keyId()},
               {"old_public_key", key_.publicKeyPem()},
               {"new_key_id", fresh->keyId()},
               {"new_public_key", fresh->publicKeyPem()},
               {"signature_by_old", merkle::bytesToHex(key_.sign(keyTransitionMessage(key_.keyId(), fresh->keyId(), fresh->publicKeyPem())))}};
  if (Status s = store_->audit().append({e}); !s) return s;
  if (Status s = store_->audit().addKey(AuditKey{fresh->keyId(), fresh->publicKeyPem()}, clock_->now()); !s) return s;
  if (Status s = writePublicKey(paths_.publicKey, fresh->publicKeyPem()); !s) return s;
  log_->info("audit signing key rotated from {} to {}; the old key is kept in {}", key_.keyId(), fresh->keyId(), retired);
  key_ = std::move(fresh).value();
  if (auto c = signAndPublish(); !c) return c.status();
  return Status::ok();
}

Result<Json> AuditService::exportBundle(const std::string& runId, TimePoint since, bool payloadsVisible) {
  for (char c : runId) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Status::invalidArgument("a run id has no spaces or control characters");
  }
  std::lock_guard lock(keyMu_);  // the checkpoint and the selection are signed by the same key
  if (auto c = signAndPublish(); !c) return Status::ioError("the audit trail could not be signed for export: " + c.status().message());
  auto cps = store_->audit().checkpoints();
  if (!cps) return cps.status();
  if (cps->empty()) return Status::failedPrecondition("the audit trail has no records to export yet");
  const AuditCheckpoint& cp = cps->back();
  auto records = store_->audit().records(runId, since, cp.size);
  if (!records) return records.status();
  if (!runId.empty() && records->empty()) return Status::notFound("no audit records for that run");
  auto leaves = store_->audit().leaves(cp.size);
  if (!leaves) return leaves.status();
  AuditSelection selection;
  selection.origin = origin_;
  selection.size = cp.size;
  selection.root = merkle::fromHex(cp.root).value_or(merkle::Hash{});
  selection.runId = runId;
  selection.since = since;
  selection.from = records->empty() ? cp.size + 1 : records->front().seq;
  Json list = Json::array();
  std::set<std::string> workflowHashes, areaHashes;  // what the runs started with
  for (const auto& r : *records) {
    AuditRecord shown = r;
    if (!payloadsVisible && !r.entry.subject.empty()) shown.payloadText.reset();
    Json proof = Json::array();
    for (const auto& h : merkle::inclusionProof(*leaves, r.seq - 1, cp.size)) proof.push_back(merkle::toHex(h));
    list.push_back({{"record", auditRecordJson(shown)}, {"proof", proof}});
    if (!runId.empty()) selection.seqs.push_back(r.seq);
    // From the stored record: a hidden payload still names the definition it ran.
    auto [wf, area] = startedWith(r);
    if (!wf.empty()) workflowHashes.insert(wf);
    if (!area.empty()) areaHashes.insert(area);
  }
  Json workflows = Json::object();
  for (const auto& hash : workflowHashes) {
    auto s = store_->workflows().source(hash);
    if (!s) return Status::failedPrecondition("the workflow definition " + hash.substr(0, 16) + "... a run used is not in the store");
    workflows[hash] = *s;
    selection.sources[hash] = merkle::toHex(merkle::sha256(*s));
  }
  Json areas = Json::object();
  for (const auto& hash : areaHashes) {
    std::ifstream in(paths_.areas + "/" + hash + ".yaml", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return Status::failedPrecondition("the area file " + hash.substr(0, 16) + "... a run used is not in " + paths_.areas);
    areas[hash] = text.str();
  }
  note::Note selected;
  selected.text = auditSelectionText(selection);
  selected.signatures.push_back(note::signAsLog(selected.text, origin_, key_));
  // Proofs that this checkpoint extends each earlier one (the last 50): an auditor who kept
  // an earlier root can check that nothing before it was rewritten since.
  Json consistency = Json::array();
  for (size_t i = cps->size() - 1, taken = 0; i-- > 0 && taken < 50; ++taken) {
    const AuditCheckpoint& earlier = (*cps)[i];
    Json proof = Json::array();
    for (const auto& h : merkle::consistencyProof(*leaves, earlier.size, cp.size)) proof.push_back(merkle::toHex(h));
    consistency.push_back({{"size", earlier.size}, {"root", earlier.root}, {"key_id", earlier.keyId}, {"proof", proof}});
  }
  Json keys = Json::array();
  if (auto ks = store_->audit().keys()) {
    for (const auto& k : *ks) keys.push_back({{"key_id", k.keyId}, {"public_key", k.publicPem}});
  }
  return Json{{"format", kBundleFormat},
              {"exported_at", formatTime(clock_->now())},
              {"query", runId.empty() ? Json{{"since", formatTime(since)}} : Json{{"run", runId}}},
              {"public_key", key_.publicKeyPem()},
              {"key_id", key_.keyId()},
              {"keys", keys},
              {"checkpoint",
               {{"size", cp.size}, {"root", cp.root}, {"head", cp.head}, {"time", cp.time.time_since_epoch().count()},
                {"key_id", cp.keyId}, {"signature", cp.signature}, {"note", cp.note}}},
              {"selection", note::format(selected)},
              {"records", list},
              {"consistency", consistency},
              {"workflows", workflows},
              {"areas", areas}};
}

}  // namespace vigil::daemon

// The audit trail: every run event, approval, access, disclosure and admin action as a
// record in one hash chain, with signed Merkle checkpoints (see docs/AUDIT.md).
//
// A record's header (sequence, time, kind, actor, run, step, subject, system, purpose,
// recipient, the SHA-256 of its payload, and the previous record's hash) is what the chain
// and the tree commit to; the payload is committed to only through its digest, so erasing
// a payload at the end of its retention keeps every link and checkpoint verifiable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/clock.h"
#include "vigil/expr.h"
#include "vigil/merkle.h"
#include "vigil/status.h"

namespace vigil {

// Record kinds: the Data Protection Act 2018 s.62 logging categories, then the engine's own.
inline constexpr const char* kAuditKinds[] = {"collection", "alteration", "consultation", "disclosure", "combination",
                                              "erasure",    "run",        "admin"};
bool isAuditKind(std::string_view kind);

// What a writer supplies; the store gives it a sequence number and links it.
struct AuditEntry {
  TimePoint time{};
  std::string kind;
  std::string actor;      // a person, or "system:<workflow>@<version>" acting for one
  std::string runId;
  std::string step;
  std::string subject;    // pseudonymous data-subject reference, never the data itself
  std::string system;     // the system touched: "vigil", a connector, "api"
  std::string purpose;
  std::string recipient;  // disclosures: to whom
  Json payload;           // what happened; may hold personal data, so it can be erased
};

struct AuditRecord {
  uint64_t seq = 0;
  AuditEntry entry;
  std::optional<std::string> payloadText;  // exactly the bytes digested; nullopt once erased
  std::string payloadHash;                 // hex SHA-256 of payloadText
  std::string prev;                        // hex hash of record seq-1 (64 zeros for the first)
  std::string hash;                        // hex leaf hash of header(): chain link and Merkle leaf
};

// The bytes a record's hash covers.
std::string auditHeader(const AuditRecord& r);
std::string auditHeader(uint64_t seq, const AuditEntry& e, const std::string& payloadHash, const std::string& prev);
// What record `seq` holding `entry` after `prevHash` commits to; the entry is not copied
// (a run's record carries all its events).
struct AuditSeal {
  std::string payloadText;  // exactly the bytes digested
  std::string payloadHash;  // hex SHA-256 of payloadText
  merkle::Hash leaf{};      // the leaf hash of the header: chain link and Merkle leaf
};
AuditSeal sealAuditEntry(uint64_t seq, const AuditEntry& entry, const std::string& prevHash);
inline const std::string kAuditGenesis(64, '0');

// A signed statement that the first `size` records have Merkle root `root` (and so that
// the last of them has hash `head`). Since schema 9 it is a C2SP signed note: the
// tlog-checkpoint text "ORIGIN\nSIZE\nBASE64(ROOT)\n" signed by the log key under the name
// ORIGIN, the form the checkpoint log and witnesses keep; `signature` is that signature.
// Older checkpoints (format 1) signed checkpointMessage() and have no note.
struct AuditCheckpoint {
  uint64_t size = 0;
  std::string root;  // hex
  std::string head;  // hex
  TimePoint time{};
  std::string keyId;
  std::string signature;  // hex Ed25519
  std::vector<std::string> frontier;  // hex; lets the writer resume the tree after a restart
  std::string note;       // the signed note; "" for format 1
};
std::string checkpointMessage(const AuditCheckpoint& c);
// Signs the tree head (size, root hex, head hex) as a signed note under `origin`.
AuditCheckpoint signCheckpoint(uint64_t size, const std::string& root, const std::string& head, TimePoint time,
                               const std::string& origin, const class SigningKey& key);
// True when the checkpoint's signature is by `publicKey` (PEM): over its note, whose text
// must name its size and root, or over checkpointMessage() for format 1.
bool checkpointSignedBy(const AuditCheckpoint& c, const std::string& publicKey);

// A key transition: the new key is introduced by a record signed by the old one, so a
// verifier that trusts today's key can walk back to the keys of older checkpoints.
struct AuditKey {
  std::string keyId;
  std::string publicPem;
};

// Where a verifier reads from: a live data directory or an export bundle.
class AuditSource {
 public:
  virtual ~AuditSource() = default;
  // Calls `f` for each record in stored order; stops early when f returns false.
  virtual Status forEachRecord(const std::function<bool(AuditRecord&)>& f) = 0;  // f may swap it out
  virtual Result<std::vector<AuditCheckpoint>> checkpoints() = 0;
  virtual Result<std::vector<AuditKey>> keys() = 0;
};

struct AuditVerdict {
  bool ok = false;
  uint64_t records = 0;
  std::string head;          // hex hash of the last record
  uint64_t erasedPayloads = 0;
  uint64_t checkpoints = 0;
  uint64_t anchors = 0;      // trusted checkpoints from outside the data that it extends
  uint64_t firstBad = 0;     // sequence number of the first bad record (0: none, or not one record)
  std::string problem;       // "modified", "missing", "inserted", "reordered", "truncated", "bad signature", ...
                             // or, for input that could not be used, "unreadable", "bad key", "bad anchor"
  std::string detail;        // one line for people
  std::string caveat;        // with ok: what the check could not show (no trust anchor, ...)
};
// Whether a failed verdict is about unusable input (exit 2) rather than tampering (exit 1).
bool unusableInput(const AuditVerdict& v);

// A checkpoint the records must extend, obtained from outside the data being checked: a
// checkpoint file or log, or a witness. It is a signed tlog-checkpoint note; `from` names
// where it came from in messages.
struct AuditAnchor {
  std::string note;
  std::string from;
};

// Checks every link, payload digest, checkpoint root and signature, and that the records
// extend every anchor (at least as many records, the same root at its size). `trustedKey`
// is the public key (PEM) the verifier trusts, obtained from outside the data being
// checked; checkpoints and anchors signed by other keys verify only through key
// transitions from it. Without anchors an ok verdict carries a caveat: a store that was
// wiped or replaced as a whole is consistent in itself.
AuditVerdict verifyAudit(AuditSource& source, const std::string& trustedKey, const std::vector<AuditAnchor>& anchors = {});

// The records of a SQLite data directory, opened read-only.
Result<std::unique_ptr<AuditSource>> openSqliteAuditSource(const std::string& dataDir);

// The access log: who consulted or disclosed what, and why. A page of the records of kind
// `consultation` or `disclosure` (a person reading run data through the API, an export, a
// connector call made for a run), newest first. Filters left empty match every record.
struct AccessLogQuery {
  std::string actor;              // exactly this actor
  std::string runId;              // exactly this run (not its sub-workflow runs)
  std::optional<TimePoint> from;  // time >= from
  std::optional<TimePoint> to;    // time < to
  uint64_t before = 0;            // seq < before; 0: from the newest record
  size_t limit = 100;             // 1 to kAccessLogMaxPage
};
inline constexpr size_t kAccessLogMaxPage = 500;
struct AccessLogPage {
  // Headers only: `entry.payload` is always null, so the log tells who read what, never
  // what they were shown.
  std::vector<std::pair<uint64_t, AuditEntry>> records;  // (seq, header)
  uint64_t next = 0;  // the `before` of the next (older) page; 0 when there is none
};
// Whether a page's limit is one a store serves (1 to kAccessLogMaxPage).
Status checkAccessLogLimit(const AccessLogQuery& query);
// The caches of a SQLite data directory against its chain, read-only: each run's snapshot
// is the fold of its chained events and the one its last record's digest names; each
// inbox row is what its run's history says. `records` counts the runs checked; `problem`
// and `detail` name the first run that differs.
AuditVerdict verifySqliteCaches(const std::string& dataDir);
// The whole of a SQLite data directory: verifyAudit on its records (`records` is its
// audit source), then verifySqliteCaches; the verdict is the chain's, or the caches'
// problem when the chain holds and a cache does not.
AuditVerdict verifyDataDir(const std::string& dataDir, AuditSource& records, const std::string& trustedKey,
                           const std::vector<AuditAnchor>& anchors = {});

// The message an old key signs to hand over to a new one.
std::string keyTransitionMessage(const std::string& oldId, const std::string& newId, const std::string& newPem);

// A keyed, pseudonymous reference to the person a run is about (its first `sensitive:`
// input): stable across runs, meaningless without the key. "" when there is none.
std::string subjectReference(const struct Workflow& wf, const Json& inputs, const std::string& key);

// Export bundles: the records of one run (or since a time), each with its inclusion proof
// to a checkpoint signed for the export, the signed selection that lists which records
// the bundle must hold, the public keys, and the workflow definitions and area files the
// runs used. `payloadVisible` says whether the exporter may see a record's payload; a
// hidden payload is left out (it verifies as erased).
inline constexpr const char* kBundleFormat = "vigil-audit-bundle/2";

// What a bundle holds, signed by the log key as a note (so no record can be left out of a
// bundle unnoticed): either the sequence numbers of every record of a run (and of its
// sub-workflow runs) up to the checkpoint, or every record from `from` (the first at or
// after `since`) to it.
struct AuditSelection {
  std::string origin;
  uint64_t size = 0;      // the checkpoint's
  merkle::Hash root{};
  std::string runId;      // a run's records, or
  TimePoint since{};      // every record from `from`
  uint64_t from = 0;
  std::vector<uint64_t> seqs;  // a run's: its records' sequence numbers, ascending
  // The workflow sources the bundle keeps: definition hash -> SHA-256 of the exact text (a
  // definition's hash is of its canonical form, blind to comments and layout).
  std::map<std::string, std::string> sources;
};
std::string auditSelectionText(const AuditSelection& s);
std::optional<AuditSelection> parseAuditSelection(std::string_view text);

// Checks a bundle against `trustedKey` (PEM). An ok verdict carries a caveat when the
// bundle cannot show that it is complete (format 1, before signed selections).
AuditVerdict verifyAuditBundle(const Json& bundle, const std::string& trustedKey);
Json auditRecordJson(const AuditRecord& r);
std::optional<AuditRecord> auditRecordFromJson(const Json& j);
// The workflow definition hash and area hash a run's first chained record names ("" when
// the payload is erased or holds no RunStarted event).
std::pair<std::string, std::string> startedWith(const AuditRecord& r);

}  // namespace vigil

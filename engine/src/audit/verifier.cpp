// Offline verification of the audit chain: links, digests, checkpoint roots, signatures
// and key transitions, in one pass over the records (see docs/AUDIT.md).
#include <array>
#include <future>
#include <map>
#include <set>

#include "vigil/audit.h"
#include "vigil/note.h"
#include "vigil/signing.h"

namespace vigil {
namespace {

constexpr size_t kBatch = 8192;


AuditVerdict bad(AuditVerdict v, uint64_t seq, std::string problem, std::string detail) {
  v.ok = false;
  v.firstBad = seq;
  v.problem = std::move(problem);
  v.detail = std::move(detail);
  return v;
}

// A record that introduces a new signing key, endorsed by the old one.
struct Transition {
  std::string oldId, oldPem, newId, newPem, signature;
};

std::optional<Transition> transitionOf(const AuditRecord& r) {
  if (r.entry.kind != "admin" || !r.payloadText) return std::nullopt;
  Json p = Json::parse(*r.payloadText, nullptr, false);
  if (!p.is_object() || p.value("event", "") != "audit_key_rotated") return std::nullopt;
  return Transition{p.value("old_key_id", ""), p.value("old_public_key", ""), p.value("new_key_id", ""),
                    p.value("new_public_key", ""), p.value("signature_by_old", "")};
}

// An anchor, parsed.
struct Anchor {
  note::Note note;
  note::Checkpoint checkpoint;
  std::string from;
};

}  // namespace

bool unusableInput(const AuditVerdict& v) {
  return !v.ok && (v.problem == "unreadable" || v.problem == "bad key" || v.problem == "bad anchor");
}

std::string keyTransitionMessage(const std::string& oldId, const std::string& newId, const std::string& newPem) {
  return "vigil-audit-key-transition/1\n" + oldId + "\n" + newId + "\n" + newPem;
}

AuditVerdict verifyAudit(AuditSource& source, const std::string& trustedKey, const std::vector<AuditAnchor>& anchorNotes) {
  AuditVerdict v;
  const std::string anchor = keyIdOf(trustedKey);
  if (anchor.empty()) return bad(v, 0, "bad key", "the trusted public key is not an Ed25519 public key");
  std::vector<Anchor> anchors;
  std::multimap<uint64_t, const Anchor*> anchorAt;
  for (const auto& a : anchorNotes) {
    auto n = note::parse(a.note);
    auto c = n ? note::parseCheckpoint(n->text) : std::nullopt;
    if (!c) return bad(v, 0, "bad anchor", a.from + " is not a signed checkpoint (C2SP tlog-checkpoint note)");
    anchors.push_back(Anchor{std::move(*n), *c, a.from});
  }
  for (const auto& a : anchors) anchorAt.emplace(a.checkpoint.size, &a);
  auto cps = source.checkpoints();
  if (!cps) return bad(v, 0, "unreadable", cps.status().message());
  std::map<uint64_t, const AuditCheckpoint*> bySize;
  for (const auto& c : *cps) bySize[c.size] = &c;

  merkle::TreeBuilder tree;
  std::string last = kAuditGenesis;
  uint64_t expected = 1;
  std::vector<Transition> transitions;
  std::multimap<std::string, uint64_t> uncovered;  // run -> records without a payload and no erasure record yet
  std::optional<AuditVerdict> failure;
  auto check = [&](const AuditRecord& r) {
    if (r.seq != expected) {
      failure = r.seq > expected
                    ? bad(v, expected, "missing", "record " + std::to_string(expected) + " is missing (next found is " +
                                                      std::to_string(r.seq) + ")")
                    : bad(v, r.seq, "reordered", "record " + std::to_string(r.seq) + " appears after record " +
                                                     std::to_string(expected - 1));
      return false;
    }
    if (r.prev != last) {
      failure = bad(v, r.seq, "inserted",
                    "record " + std::to_string(r.seq) + " does not link to record " + std::to_string(r.seq - 1) +
                        ": a record was inserted, removed or swapped here");
      return false;
    }
    const auto stored = merkle::fromHex(r.hash);
    if (!stored || merkle::leafHash(auditHeader(r)) != *stored) {
      failure = bad(v, r.seq, "modified", "record " + std::to_string(r.seq) + ": its header was modified");
      return false;
    }
    if (r.payloadText) {
      if (merkle::fromHex(r.payloadHash) != std::optional<merkle::Hash>(merkle::sha256(*r.payloadText))) {
        failure = bad(v, r.seq, "modified", "record " + std::to_string(r.seq) + ": its payload was modified");
        return false;
      }
      if (auto t = transitionOf(r)) transitions.push_back(*t);
      if (r.entry.kind == "erasure") {
        // An erasure record covers the earlier records of its run (and, as erasures written
        // before schema 8 did, of its sub-workflow runs).
        const std::string& run = r.entry.runId;
        for (auto it = uncovered.lower_bound(run); it != uncovered.end() && it->first.compare(0, run.size(), run) == 0;) {
          const bool child = it->first.size() > run.size() && it->first[run.size()] == '.';
          it = it->first == run || child ? uncovered.erase(it) : std::next(it);
        }
      }
    } else {
      // Accepted as erased only if a later erasure record of its run says so (below).
      ++v.erasedPayloads;
      uncovered.emplace(r.entry.runId, r.seq);
    }
    tree.append(*stored);
    last = r.hash;
    for (auto [it, end] = anchorAt.equal_range(r.seq); it != end; ++it) {
      if (tree.root() != it->second->checkpoint.root) {
        failure = bad(v, r.seq, "modified",
                      "the records up to " + std::to_string(r.seq) + " do not match the trusted checkpoint from " +
                          it->second->from + ": history was rewritten");
        return false;
      }
    }
    if (auto it = bySize.find(r.seq); it != bySize.end()) {
      if (merkle::toHex(tree.root()) != it->second->root || it->second->head != r.hash) {
        failure = bad(v, r.seq, "modified",
                      "the records up to " + std::to_string(r.seq) + " do not match the signed checkpoint at " +
                          std::to_string(r.seq) + ": history was rewritten");
        return false;
      }
    }
    ++v.records;
    ++expected;
    return true;
  };

  // Double buffering: this thread reads a batch of rows while a checker hashes the one
  // before (reading and hashing each take about half the time). Records are reused, so the
  // steady state allocates nothing.
  std::array<std::vector<AuditRecord>, 2> buffers;
  std::array<size_t, 2> filled{0, 0};
  int current = 0;
  std::future<bool> checking;
  auto launch = [&](int which) {
    checking = std::async(std::launch::async, [&, which] {
      for (size_t i = 0; i < filled[which]; ++i) {
        if (!check(buffers[which][i])) return false;
      }
      return true;
    });
  };
  bool stopped = false;
  Status read = source.forEachRecord([&](AuditRecord& r) {
    auto& buf = buffers[current];
    if (filled[current] == buf.size()) buf.emplace_back();
    std::swap(buf[filled[current]++], r);
    if (filled[current] < kBatch) return true;
    if (checking.valid() && !checking.get()) {
      stopped = true;
      return false;
    }
    launch(current);
    current = 1 - current;
    filled[current] = 0;
    return true;
  });
  if (!stopped) {
    bool ok = !checking.valid() || checking.get();
    if (ok && filled[current] > 0) {
      launch(current);
      checking.get();
    }
  }
  if (!read) return bad(v, expected, "unreadable", read.message());
  if (failure) return *failure;
  v.head = last;
  if (!uncovered.empty()) {
    uint64_t first = UINT64_MAX;
    for (const auto& [run, seq] : uncovered) first = std::min(first, seq);
    return bad(v, first, "payload removed",
               "record " + std::to_string(first) + ": its payload is gone and no erasure record covers it (retention writes one)");
  }

  // Trust flows back from the anchor through transitions: a trusted new key's checkpoints
  // cover the record that named the old key, which the old key had itself signed over.
  std::set<std::string> trusted = {anchor};
  std::map<std::string, std::string> pems = {{anchor, trustedKey}};
  for (auto it = transitions.rbegin(); it != transitions.rend(); ++it) {
    if (trusted.count(it->newId) == 0) continue;
    if (keyIdOf(it->oldPem) != it->oldId || keyIdOf(it->newPem) != it->newId ||
        !verifySignature(it->oldPem, keyTransitionMessage(it->oldId, it->newId, it->newPem), merkle::hexToBytes(it->signature))) {
      return bad(v, 0, "bad signature", "the key transition from " + it->oldId + " to " + it->newId + " is not signed by the old key");
    }
    trusted.insert(it->oldId);
    pems[it->oldId] = it->oldPem;
  }
  // An anchor counts only if a trusted key signed it; then a store shorter than it was cut.
  for (const auto& a : anchors) {
    bool signedByTrusted = false;
    for (const auto& id : trusted) signedByTrusted = signedByTrusted || note::verifiedByLog(a.note, a.checkpoint.origin, rawPublicKeyOf(pems[id]));
    if (!signedByTrusted) {
      return bad(v, 0, "bad anchor", "the checkpoint from " + a.from + " is not signed by the trusted key (or a key it handed over from)");
    }
  }
  const Anchor* longest = nullptr;
  for (const auto& a : anchors) {
    if (!longest || a.checkpoint.size > longest->checkpoint.size) longest = &a;
  }
  if (longest && longest->checkpoint.size > v.records) {
    return bad(v, v.records + 1, "truncated",
               "the store holds " + std::to_string(v.records) + " records but the trusted checkpoint from " + longest->from +
                   " covers " + std::to_string(longest->checkpoint.size) + ": records were removed, or the store was wiped or replaced");
  }
  v.anchors = anchors.size();
  // Truncation first: a cut tail may also have taken the key hand-over that trust needs.
  if (!bySize.empty() && bySize.rbegin()->first > v.records) {
    return bad(v, v.records + 1, "truncated",
               "truncated after record " + std::to_string(v.records) + ": a signed checkpoint covers " +
                   std::to_string(bySize.rbegin()->first) + " records");
  }
  for (const auto& [size, c] : bySize) {
    if (trusted.count(c->keyId) == 0) {
      return bad(v, size, "bad signature",
                 "the checkpoint at " + std::to_string(size) + " is signed by key " + c->keyId + ", which is not trusted");
    }
    if (!checkpointSignedBy(*c, pems[c->keyId])) {
      return bad(v, size, "bad signature", "the checkpoint at " + std::to_string(size) + " has a bad signature");
    }
    ++v.checkpoints;
  }
  if (v.records > 0 && v.checkpoints == 0) {
    return bad(v, 0, "unsigned",
               "no signed checkpoint yet, so the records cannot be tied to the trusted key (the daemon signs one "
               "at start, every audit.checkpoint_interval_seconds and at shutdown; verify again after one)");
  }
  v.ok = true;
  if (anchors.empty()) {
    v.caveat = "internal consistency only: no trusted checkpoint from outside the store was given (--checkpoint, --witness "
               "or --config), so a store wiped, replaced or rewritten as a whole would also pass";
  }
  return v;
}

}  // namespace vigil

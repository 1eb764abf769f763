// Internal: the audit chain's head as a writer keeps it, whichever database holds the
// records: the last record's sequence number and hash, and the Merkle tree's frontier, so
// that appending is one insert and a hash and a checkpoint needs no reread. Records sealed
// within a transaction are pending until it commits; a store calls commitTail() after its
// COMMIT and rollbackTail() when the transaction failed, so memory matches the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/audit.h"
#include "vigil/merkle.h"
#include "vigil/utf8.h"

namespace vigil::store {

class ChainHead {
 public:
  // Starts again from nothing, or from a checkpoint's size and frontier when they give the
  // root it signed (else from nothing: appending to a wrong frontier would sign wrong roots).
  // Returns the size resumed from.
  uint64_t resume(const std::optional<AuditCheckpoint>& latest) {
    *this = ChainHead();
    if (!latest) return 0;
    std::vector<merkle::Hash> frontier;
    for (const auto& h : latest->frontier) {
      if (auto x = merkle::fromHex(h)) frontier.push_back(*x);
    }
    auto t = merkle::TreeBuilder::resume(latest->size, frontier);
    if (!t || merkle::toHex(t->root()) != latest->root) return 0;
    tree_ = *t;
    size_ = latest->size;
    head_ = latest->head;
    return size_;
  }

  // A committed record another writer appended (catching up); false when its hash is not
  // a hash. A gap in the sequence (records deleted) is the verifier's to report, not a
  // reason to refuse to open the store.
  bool take(uint64_t seq, const std::string& hash) {
    auto h = merkle::fromHex(hash);
    if (!h || seq <= size_) return false;
    tree_.append(*h);
    size_ = seq;
    head_ = hash;
    return true;
  }

  struct Sealed {
    uint64_t seq = 0;
    AuditSeal seal;
    std::string prev;
    std::string hash;
    // The entry whose fields were sealed, which is what must be stored: `original`, or a
    // copy with every byte that is not UTF-8 (or is NUL) replaced, since a database that
    // changes or refuses such a byte would store fields that no longer match their hash.
    const AuditEntry& entry(const AuditEntry& original) const { return cleaned ? *cleaned : original; }
    std::optional<AuditEntry> cleaned;
  };
  // The next record after the pending head, for the store to insert.
  Sealed seal(const AuditEntry& original) {
    if (!pending_) {
      pendingSize_ = size_;
      pendingHead_ = head_;
      pendingTree_ = tree_;
      pending_ = true;
    }
    Sealed s;
    s.cleaned = cleanedFields(original);
    const AuditEntry& e = s.entry(original);
    s.seq = pendingSize_ + 1;
    s.seal = sealAuditEntry(s.seq, e, pendingHead_);
    s.prev = pendingHead_;
    s.hash = merkle::toHex(s.seal.leaf);
    pendingSize_ = s.seq;
    pendingHead_ = s.hash;
    pendingTree_.append(s.seal.leaf);
    return s;
  }
  static std::optional<AuditEntry> cleanedFields(const AuditEntry& e) {
    const std::string* fields[] = {&e.kind, &e.actor, &e.runId, &e.step, &e.subject, &e.system, &e.purpose, &e.recipient};
    bool bad = false;
    for (const std::string* f : fields) bad = bad || findInvalidUtf8(*f) != std::string::npos;
    if (!bad) return std::nullopt;
    AuditEntry c = e;
    for (std::string* f : {&c.kind, &c.actor, &c.runId, &c.step, &c.subject, &c.system, &c.purpose, &c.recipient}) {
      if (findInvalidUtf8(*f) != std::string::npos) *f = withReplacementChars(*f);
    }
    return c;
  }
  void commitTail() {
    if (!pending_) return;
    size_ = pendingSize_;
    head_ = std::move(pendingHead_);
    tree_ = pendingTree_;
    pending_ = false;
  }
  void rollbackTail() { pending_ = false; }

  uint64_t size() const { return size_; }
  const std::string& head() const { return head_; }
  const merkle::TreeBuilder& tree() const { return tree_; }
  // The head with the pending records: where the transaction leaves the chain.
  uint64_t tailSize() const { return pending_ ? pendingSize_ : size_; }
  const std::string& tailHead() const { return pending_ ? pendingHead_ : head_; }

 private:
  uint64_t size_ = 0;
  std::string head_ = kAuditGenesis;
  merkle::TreeBuilder tree_;
  uint64_t pendingSize_ = 0;
  std::string pendingHead_;
  merkle::TreeBuilder pendingTree_;
  bool pending_ = false;
};

}  // namespace vigil::store

// Merkle trees in the manner of RFC 9162 (Certificate Transparency v2), section 2.1.
//
// The audit chain commits to its records with these trees: a leaf is
// SHA-256(0x00 || record), an interior node SHA-256(0x01 || left || right), and a tree
// of n leaves splits at the largest power of two smaller than n. Domain separation of
// leaves and nodes is what stops a node being passed off as a leaf.
//
// Generators (rootOf, inclusionProof, consistencyProof) trust their caller; verifiers
// trust nothing: any size, index or proof may come from an attacker, and a bad one gives
// false, never a crash. All functions are pure and thread-safe. SHA-256 comes from
// OpenSSL; if OpenSSL cannot compute it at all (a broken installation) the process aborts
// rather than return a hash it did not compute.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::merkle {

using Hash = std::array<uint8_t, 32>;

// SHA-256 of data.
Hash sha256(std::string_view data);
// SHA-256(0x00 || data): the hash of one record as a leaf.
Hash leafHash(std::string_view data);
// SHA-256(0x01 || left || right).
Hash nodeHash(const Hash& left, const Hash& right);
// MTH({}), the root of the empty tree: SHA-256 of the empty string.
Hash emptyRoot();

// Lower-case hex, 64 characters.
std::string toHex(const Hash& h);
// Exactly 64 hex digits, either case; nullopt for anything else.
std::optional<Hash> fromHex(std::string_view hex);
// Any bytes as lower-case hex, and back ("" for text that is not hex): signatures in JSON.
std::string bytesToHex(std::string_view bytes);
std::string hexToBytes(std::string_view hex);

// Builds a tree one leaf hash at a time and gives the root of the tree so far. Keeps only
// the roots of the perfect subtrees that make up the tree (one per set bit of size()), so
// memory is fixed and append() never allocates; a million records verify in one pass.
// A value type; not thread-safe (one builder per thread).
class TreeBuilder {
 public:
  // Adds the next leaf (already a leafHash). Amortised one nodeHash per call.
  void append(const Hash& leaf);
  uint64_t size() const { return size_; }
  // MTH of the leaves so far; emptyRoot() when there are none. Equal to rootOf() of the
  // same leaves. O(log size) hashes.
  Hash root() const;
  // The roots of the perfect subtrees so far, largest first: with size(), all that is
  // needed to carry on appending after a restart without rereading every leaf.
  std::vector<Hash> frontier() const { return std::vector<Hash>(stack_.begin(), stack_.begin() + depth_); }
  // A builder that continues from a saved size and frontier; nullopt when they disagree.
  static std::optional<TreeBuilder> resume(uint64_t size, const std::vector<Hash>& frontier);

 private:
  // stack_[0..depth_) are the perfect subtree roots, largest (leftmost) first.
  std::array<Hash, 64> stack_{};
  uint64_t size_ = 0;
  unsigned depth_ = 0;
};

// MTH(D[begin:end]) of leaf hashes. An empty or invalid range (begin >= end, or end past
// leaves.size()) gives emptyRoot().
Hash rootOf(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end);

// PATH(index, D[0:treeSize]): the audit path proving leaves[index] is in the tree of the
// first treeSize leaves, nearest sibling first. Empty when index >= treeSize or treeSize >
// leaves.size() (and, legitimately, for a tree of one leaf).
std::vector<Hash> inclusionProof(const std::vector<Hash>& leaves, uint64_t index, uint64_t treeSize);

// RFC 9162 2.1.3.2: true when proof shows leaf (a leafHash) at index in the tree of
// treeSize leaves whose root is root. False for index >= treeSize or a proof of the wrong
// length or content.
bool verifyInclusion(const Hash& leaf, uint64_t index, uint64_t treeSize,
                     const std::vector<Hash>& proof, const Hash& root);

// PROOF(oldSize, D[0:newSize]): proves the tree of the first oldSize leaves is a prefix of
// the tree of the first newSize. Empty when oldSize is 0 or equals newSize (nothing to
// prove), and when oldSize > newSize or newSize > leaves.size().
std::vector<Hash> consistencyProof(const std::vector<Hash>& leaves, uint64_t oldSize, uint64_t newSize);

// RFC 9162 2.1.4.2: true when proof shows the tree (oldSize, oldRoot) is a prefix of the
// tree (newSize, newRoot). Edge cases the RFC leaves to the caller: equal sizes need an
// empty proof and equal roots; oldSize 0 needs an empty proof and oldRoot == emptyRoot()
// (any tree extends the empty one). False for oldSize > newSize or any bad proof.
bool verifyConsistency(uint64_t oldSize, uint64_t newSize, const Hash& oldRoot,
                       const Hash& newRoot, const std::vector<Hash>& proof);

}  // namespace vigil::merkle

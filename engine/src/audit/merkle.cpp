#include "vigil/merkle.h"

#include <openssl/evp.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vigil::merkle {
namespace {

[[noreturn]] void sha256Unavailable() {
  std::fputs("vigil: OpenSSL cannot compute SHA-256; aborting\n", stderr);
  std::abort();
}

// SHA256() in OpenSSL 3 fetches the algorithm by name on every call, which makes a
// 65-byte node hash about three times slower than reusing a context with a prefetched
// EVP_MD. Verification hashes millions of nodes, so fetch once and keep one context per
// thread. The EVP_MD is deliberately never freed: it must outlive every thread's context
// and OpenSSL's own atexit cleanup, whose order against static destructors is unknown.
const EVP_MD* sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) {
    sha256Unavailable();
  }
  return md;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) {
      sha256Unavailable();
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  static Sha256& forThisThread() {
    thread_local Sha256 hasher;
    return hasher;
  }

  // SHA-256(prefix || data).
  Hash digest(std::string_view prefix, std::string_view data) {
    Hash out;
    unsigned int len = 0;
    if (EVP_DigestInit_ex(ctx_, sha256Md(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx_, prefix.data(), prefix.size()) != 1 ||
        EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size()) {
      sha256Unavailable();
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// The split point of RFC 9162: the largest power of two strictly below n (n >= 2).
uint64_t splitOf(uint64_t n) { return std::bit_floor(n - 1); }

void appendPath(const std::vector<Hash>& leaves, uint64_t index, uint64_t begin, uint64_t end,
                std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (n <= 1) {
    return;
  }
  uint64_t k = splitOf(n);
  if (index < k) {
    appendPath(leaves, index, begin, begin + k, out);
    out.push_back(rootOf(leaves, begin + k, end));
  } else {
    appendPath(leaves, index - k, begin + k, end, out);
    out.push_back(rootOf(leaves, begin, begin + k));
  }
}

// SUBPROOF(m, D[begin:end], complete) of RFC 9162 2.1.4.1, for 0 < m <= end - begin.
void appendSubproof(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin, uint64_t end,
                    bool complete, std::vector<Hash>& out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      out.push_back(rootOf(leaves, begin, end));
    }
    return;
  }
  uint64_t k = splitOf(n);
  if (m <= k) {
    appendSubproof(leaves, m, begin, begin + k, complete, out);
    out.push_back(rootOf(leaves, begin + k, end));
  } else {
    appendSubproof(leaves, m - k, begin + k, end, false, out);
    out.push_back(rootOf(leaves, begin, begin + k));
  }
}

// Right-shifts fn and sn together until fn is odd or zero (RFC 9162 2.1.3.2 step 4b).
void alignRight(uint64_t& fn, uint64_t& sn) {
  while (fn != 0 && (fn & 1) == 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

Hash sha256(std::string_view data) { return Sha256::forThisThread().digest({}, data); }

Hash leafHash(std::string_view data) {
  static constexpr char kLeafPrefix[1] = {0x00};
  return Sha256::forThisThread().digest({kLeafPrefix, 1}, data);
}

Hash nodeHash(const Hash& left, const Hash& right) {
  // One contiguous buffer: a single update measured about 8% faster than three.
  char buf[1 + 2 * sizeof(Hash)];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return Sha256::forThisThread().digest({}, {buf, sizeof(buf)});
}

Hash emptyRoot() {
  static const Hash root = sha256({});
  return root;
}

std::string toHex(const Hash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * h.size(), '0');
  for (size_t i = 0; i < h.size(); ++i) {
    out[2 * i] = kDigits[h[i] >> 4];
    out[2 * i + 1] = kDigits[h[i] & 0x0f];
  }
  return out;
}

std::string bytesToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0f];
  }
  return out;
}

std::string hexToBytes(std::string_view hex) {
  if (hex.size() % 2 != 0) return "";
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto digit = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::optional<Hash> fromHex(std::string_view hex) {
  // A table, not branches: verification converts two hashes per record.
  static const std::array<int8_t, 256> kValue = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) {
      t['a' + i] = static_cast<int8_t>(10 + i);
      t['A' + i] = static_cast<int8_t>(10 + i);
    }
    return t;
  }();
  Hash out;
  if (hex.size() != 2 * out.size()) {
    return std::nullopt;
  }
  int bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = kValue[static_cast<unsigned char>(hex[2 * i])];
    int lo = kValue[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (bad < 0) {
    return std::nullopt;
  }
  return out;
}

void TreeBuilder::append(const Hash& leaf) {
  // Each trailing one bit of size_ is a perfect subtree the same size as the one being
  // completed; merge them, exactly like carrying in binary addition.
  Hash h = leaf;
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = nodeHash(stack_[--depth_], h);
  }
  stack_[depth_++] = h;
  ++size_;
}

std::optional<TreeBuilder> TreeBuilder::resume(uint64_t size, const std::vector<Hash>& frontier) {
  if (static_cast<size_t>(std::popcount(size)) != frontier.size()) return std::nullopt;
  TreeBuilder b;
  for (size_t i = 0; i < frontier.size(); ++i) b.stack_[i] = frontier[i];
  b.depth_ = static_cast<unsigned>(frontier.size());
  b.size_ = size;
  return b;
}

Hash TreeBuilder::root() const {
  if (depth_ == 0) {
    return emptyRoot();
  }
  // RFC 9162 splits at the largest power of two, so the perfect subtrees hang off the
  // right spine: fold from the smallest (rightmost) up.
  Hash h = stack_[depth_ - 1];
  for (unsigned i = depth_ - 1; i > 0; --i) {
    h = nodeHash(stack_[i - 1], h);
  }
  return h;
}

Hash rootOf(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (begin >= end || end > leaves.size()) {
    return emptyRoot();
  }
  // Iterative rather than the RFC's recursion: same hash, O(log n) memory.
  TreeBuilder builder;
  for (uint64_t i = begin; i < end; ++i) {
    builder.append(leaves[i]);
  }
  return builder.root();
}

std::vector<Hash> inclusionProof(const std::vector<Hash>& leaves, uint64_t index, uint64_t treeSize) {
  std::vector<Hash> proof;
  if (index >= treeSize || treeSize > leaves.size()) {
    return proof;
  }
  appendPath(leaves, index, 0, treeSize, proof);
  return proof;
}

bool verifyInclusion(const Hash& leaf, uint64_t index, uint64_t treeSize,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index >= treeSize) {
    return false;
  }
  uint64_t fn = index;
  uint64_t sn = treeSize - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    // A proof longer than the tree is deep runs sn to zero; this bounds the work an
    // attacker's proof can cause to 64 hashes.
    if (sn == 0) {
      return false;
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = nodeHash(p, r);
      alignRight(fn, sn);
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

std::vector<Hash> consistencyProof(const std::vector<Hash>& leaves, uint64_t oldSize, uint64_t newSize) {
  std::vector<Hash> proof;
  if (oldSize == 0 || oldSize >= newSize || newSize > leaves.size()) {
    return proof;
  }
  appendSubproof(leaves, oldSize, 0, newSize, true, proof);
  return proof;
}

bool verifyConsistency(uint64_t oldSize, uint64_t newSize, const Hash& oldRoot,
                       const Hash& newRoot, const std::vector<Hash>& proof) {
  if (oldSize > newSize) {
    return false;
  }
  if (oldSize == 0) {
    return proof.empty() && oldRoot == emptyRoot() && (newSize != 0 || newRoot == emptyRoot());
  }
  if (oldSize == newSize) {
    return proof.empty() && oldRoot == newRoot;
  }
  if (proof.empty()) {
    return false;
  }
  // Step 1: when oldSize is a power of two the old tree is a whole subtree of the new one,
  // so the proof leaves out its root and the verifier supplies it.
  size_t next = 0;
  Hash fr = oldRoot;
  if (!std::has_single_bit(oldSize)) {
    fr = proof[0];
    next = 1;
  }
  Hash sr = fr;
  uint64_t fn = oldSize - 1;
  uint64_t sn = newSize - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) {
      return false;
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      alignRight(fn, sn);
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == oldRoot && sr == newRoot;
}

}  // namespace vigil::merkle

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vigil/merkle.h"
#include "vigil/signing.h"

using namespace vigil;
using merkle::Hash;

namespace {

Hash hx(std::string_view hex) {
  auto h = merkle::fromHex(hex);
  REQUIRE(h.has_value());
  return *h;
}

std::vector<Hash> hxs(std::initializer_list<std::string_view> hexes) {
  std::vector<Hash> out;
  for (auto h : hexes) {
    out.push_back(hx(h));
  }
  return out;
}

// The eight leaves of Certificate Transparency's reference tests (RFC 6962 vectors).
std::vector<Hash> ctLeaves() {
  const std::string data[] = {
      std::string(),
      std::string("\x00", 1),
      std::string("\x10", 1),
      std::string("\x20\x21", 2),
      std::string("\x30\x31", 2),
      std::string("\x40\x41\x42\x43", 4),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57", 8),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16),
  };
  std::vector<Hash> leaves;
  for (const auto& d : data) {
    leaves.push_back(merkle::leafHash(d));
  }
  return leaves;
}

// Roots of the first 1..8 CT leaves.
const char* const kCtRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

// MTH straight from RFC 9162 2.1.1, recursive: an independent check on rootOf and
// TreeBuilder, which share the iterative code.
Hash referenceRoot(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  if (n == 0) {
    return merkle::emptyRoot();
  }
  if (n == 1) {
    return leaves[begin];
  }
  uint64_t k = 1;
  while (2 * k < n) {
    k *= 2;
  }
  return merkle::nodeHash(referenceRoot(leaves, begin, begin + k), referenceRoot(leaves, begin + k, end));
}

std::vector<Hash> numberedLeaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) {
    leaves.push_back(merkle::leafHash("record " + std::to_string(i)));
  }
  return leaves;
}

std::vector<Hash> rootsOfPrefixes(const std::vector<Hash>& leaves) {
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= leaves.size(); ++n) {
    roots.push_back(merkle::rootOf(leaves, 0, n));
  }
  return roots;
}

Hash flipped(Hash h, size_t byte) {
  h[byte % h.size()] ^= 0x10;
  return h;
}

// Every way of damaging a proof that a verifier must notice.
std::vector<std::vector<Hash>> damagedProofs(const std::vector<Hash>& proof, const Hash& a, const Hash& b) {
  std::vector<std::vector<Hash>> out;
  for (size_t i = 0; i < proof.size(); ++i) {
    auto p = proof;
    p[i] = flipped(p[i], i * 7);
    out.push_back(p);
  }
  if (!proof.empty()) {
    out.emplace_back(proof.begin(), proof.end() - 1);
    out.emplace_back(proof.begin() + 1, proof.end());
  }
  for (const Hash& extra : {a, b, Hash{}}) {
    auto appended = proof;
    appended.push_back(extra);
    out.push_back(appended);
    auto prepended = proof;
    prepended.insert(prepended.begin(), extra);
    out.push_back(prepended);
  }
  return out;
}

std::string flipBit(std::string s, size_t bit) {
  s[bit / 8] = static_cast<char>(s[bit / 8] ^ (1 << (bit % 8)));
  return s;
}

// A temporary directory removed when the test ends, pass or fail.
struct DataDir {
  std::filesystem::path path;
  DataDir() {
    path = std::filesystem::temp_directory_path() /
           ("vigil-audit-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~DataDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

unsigned modeOf(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("SHA-256, leaf and empty-tree hashes match known answers", "[audit][merkle]") {
  CHECK(merkle::toHex(merkle::emptyRoot()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(merkle::toHex(merkle::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(merkle::toHex(merkle::leafHash("")) == kCtRoots[0]);
  CHECK(merkle::leafHash("x") != merkle::sha256("x"));  // domain separated
  CHECK(merkle::rootOf({}, 0, 0) == merkle::emptyRoot());
  CHECK(merkle::TreeBuilder().root() == merkle::emptyRoot());
}

TEST_CASE("hex round-trips and malformed hex is rejected", "[audit][merkle]") {
  Hash h = merkle::sha256("round trip");
  std::string hex = merkle::toHex(h);
  CHECK(hex.size() == 64);
  CHECK(merkle::fromHex(hex) == h);
  std::string upper = hex;
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  CHECK(merkle::fromHex(upper) == h);
  CHECK_FALSE(merkle::fromHex(hex.substr(1)).has_value());
  CHECK_FALSE(merkle::fromHex(hex + "0").has_value());
  CHECK_FALSE(merkle::fromHex("").has_value());
  CHECK_FALSE(merkle::fromHex("g" + hex.substr(1)).has_value());
  CHECK_FALSE(merkle::fromHex(hex.substr(0, 63) + " ").has_value());
}

TEST_CASE("roots of the CT reference leaves match the RFC 6962 vectors", "[audit][merkle]") {
  auto leaves = ctLeaves();
  merkle::TreeBuilder builder;
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    builder.append(leaves[n - 1]);
    INFO("first " << n << " leaves");
    CHECK(merkle::toHex(merkle::rootOf(leaves, 0, n)) == kCtRoots[n - 1]);
    CHECK(merkle::toHex(referenceRoot(leaves, 0, n)) == kCtRoots[n - 1]);
    CHECK(merkle::toHex(builder.root()) == kCtRoots[n - 1]);
    CHECK(builder.size() == n);
  }
}

TEST_CASE("proofs for the CT reference leaves match the published vectors", "[audit][merkle]") {
  // From the CT / Trillian reference tests (ReferenceMerklePath, ReferenceSnapshotConsistency).
  auto leaves = ctLeaves();
  struct Vector {
    uint64_t a, b;
    std::vector<Hash> proof;
  };
  const std::vector<Vector> inclusion = {
      {0, 1, {}},
      {0, 8,
       hxs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       hxs({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, hxs({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5,
       hxs({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  for (const auto& v : inclusion) {
    INFO("leaf " << v.a << " of " << v.b);
    CHECK(merkle::inclusionProof(leaves, v.a, v.b) == v.proof);
    CHECK(merkle::verifyInclusion(leaves[v.a], v.a, v.b, v.proof, hx(kCtRoots[v.b - 1])));
  }
  const std::vector<Vector> consistency = {
      {1, 1, {}},
      {1, 8,
       hxs({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       hxs({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       hxs({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  for (const auto& v : consistency) {
    INFO("sizes " << v.a << " -> " << v.b);
    CHECK(merkle::consistencyProof(leaves, v.a, v.b) == v.proof);
    CHECK(merkle::verifyConsistency(v.a, v.b, hx(kCtRoots[v.a - 1]), hx(kCtRoots[v.b - 1]), v.proof));
  }
}

TEST_CASE("TreeBuilder root equals rootOf and the RFC recursion for every size to 1000", "[audit][merkle]") {
  auto leaves = numberedLeaves(1000);
  merkle::TreeBuilder builder;
  REQUIRE(builder.root() == merkle::rootOf(leaves, 0, 0));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    builder.append(leaves[n - 1]);
    Hash expected = referenceRoot(leaves, 0, n);
    if (builder.root() != expected || merkle::rootOf(leaves, 0, n) != expected) {
      FAIL("root differs at size " << n);
    }
  }
  CHECK(builder.size() == 1000);
  // Sub-ranges, which the proof generators rely on.
  for (uint64_t begin : {1u, 5u, 64u, 333u}) {
    for (uint64_t end : {begin + 1, begin + 2, begin + 7, begin + 64, uint64_t{1000}}) {
      CHECK(merkle::rootOf(leaves, begin, end) == referenceRoot(leaves, begin, end));
    }
  }
  CHECK(merkle::rootOf(leaves, 10, 5) == merkle::emptyRoot());
  CHECK(merkle::rootOf(leaves, 0, 1001) == merkle::emptyRoot());
}

TEST_CASE("inclusion proofs verify for every index and size to 33, and damage is caught", "[audit][merkle]") {
  auto leaves = numberedLeaves(33);
  auto roots = rootsOfPrefixes(leaves);
  const Hash stranger = merkle::leafHash("not in the tree");
  size_t checked = 0;
  for (uint64_t n = 0; n <= leaves.size(); ++n) {
    CHECK(merkle::inclusionProof(leaves, n, n).empty());
    CHECK_FALSE(merkle::verifyInclusion(stranger, n, n, {}, roots[n]));
    for (uint64_t m = 0; m < n; ++m) {
      INFO("leaf " << m << " of " << n);
      auto proof = merkle::inclusionProof(leaves, m, n);
      REQUIRE(merkle::verifyInclusion(leaves[m], m, n, proof, roots[n]));
      CHECK_FALSE(merkle::verifyInclusion(stranger, m, n, proof, roots[n]));
      CHECK_FALSE(merkle::verifyInclusion(leaves[m], m, n, proof, flipped(roots[n], m)));
      for (const auto& bad : damagedProofs(proof, roots[n], leaves[m])) {
        CHECK_FALSE(merkle::verifyInclusion(leaves[m], m, n, bad, roots[n]));
      }
      for (uint64_t wrongIndex : {m - 1, m + 1, m ^ 2, n, ~uint64_t{0}}) {
        if (wrongIndex != m) {
          CHECK_FALSE(merkle::verifyInclusion(leaves[m], wrongIndex, n, proof, roots[n]));
        }
      }
      for (uint64_t wrongSize : {n * 2, n / 2, m, uint64_t{0}, ~uint64_t{0}}) {
        if (wrongSize != n) {
          CHECK_FALSE(merkle::verifyInclusion(leaves[m], m, wrongSize, proof, roots[n]));
        }
      }
      ++checked;
    }
  }
  CHECK(checked == 33 * 34 / 2);
}

TEST_CASE("consistency proofs verify for every pair of sizes to 33, and damage is caught", "[audit][merkle]") {
  auto leaves = numberedLeaves(33);
  auto roots = rootsOfPrefixes(leaves);
  size_t checked = 0;
  for (uint64_t n = 0; n <= leaves.size(); ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      INFO("sizes " << m << " -> " << n);
      auto proof = merkle::consistencyProof(leaves, m, n);
      REQUIRE(merkle::verifyConsistency(m, n, roots[m], roots[n], proof));
      ++checked;
      if (m == 0 || m == n) {
        CHECK(proof.empty());
        CHECK_FALSE(merkle::verifyConsistency(m, n, roots[m], roots[n], {roots[n]}));
        if (m == n && n > 0) {
          CHECK_FALSE(merkle::verifyConsistency(m, n, roots[m], flipped(roots[n], 0), proof));
        }
        continue;
      }
      CHECK_FALSE(merkle::verifyConsistency(m, n, roots[m], roots[n], {}));
      CHECK_FALSE(merkle::verifyConsistency(m, n, roots[n], roots[m], proof));
      CHECK_FALSE(merkle::verifyConsistency(m, n, flipped(roots[m], 3), roots[n], proof));
      CHECK_FALSE(merkle::verifyConsistency(m, n, roots[m], flipped(roots[n], 3), proof));
      CHECK_FALSE(merkle::verifyConsistency(n, m, roots[n], roots[m], proof));
      for (const auto& bad : damagedProofs(proof, roots[m], roots[n])) {
        CHECK_FALSE(merkle::verifyConsistency(m, n, roots[m], roots[n], bad));
      }
      for (uint64_t wrongOld : {m - 1, m + 1, m ^ 2}) {
        if (wrongOld != m) {
          CHECK_FALSE(merkle::verifyConsistency(wrongOld, n, roots[m], roots[n], proof));
        }
      }
      for (uint64_t wrongNew : {n * 2, n / 2, ~uint64_t{0}}) {
        if (wrongNew != n) {
          CHECK_FALSE(merkle::verifyConsistency(m, wrongNew, roots[m], roots[n], proof));
        }
      }
    }
  }
  CHECK(checked == 34 * 35 / 2);
}

TEST_CASE("verifiers and generators refuse out-of-range sizes without crashing", "[audit][merkle]") {
  auto leaves = numberedLeaves(8);
  auto roots = rootsOfPrefixes(leaves);
  const uint64_t kMax = ~uint64_t{0};
  std::vector<Hash> longProof(200, leaves[0]);

  CHECK(merkle::inclusionProof(leaves, 0, 9).empty());
  CHECK(merkle::inclusionProof(leaves, 8, 8).empty());
  CHECK(merkle::inclusionProof(leaves, kMax, kMax).empty());
  CHECK(merkle::consistencyProof(leaves, 5, 4).empty());
  CHECK(merkle::consistencyProof(leaves, 4, 9).empty());
  CHECK(merkle::consistencyProof(leaves, kMax, kMax).empty());

  CHECK_FALSE(merkle::verifyInclusion(leaves[0], 0, 0, {}, merkle::emptyRoot()));
  CHECK_FALSE(merkle::verifyInclusion(leaves[0], 8, 8, merkle::inclusionProof(leaves, 7, 8), roots[8]));
  CHECK_FALSE(merkle::verifyInclusion(leaves[0], 0, kMax, longProof, roots[8]));
  CHECK_FALSE(merkle::verifyInclusion(leaves[0], kMax - 1, kMax, longProof, roots[8]));
  CHECK_FALSE(merkle::verifyInclusion(leaves[0], 0, 8, longProof, roots[8]));

  CHECK_FALSE(merkle::verifyConsistency(5, 4, roots[5], roots[4], {}));
  CHECK_FALSE(merkle::verifyConsistency(kMax, 4, roots[5], roots[4], {}));
  CHECK_FALSE(merkle::verifyConsistency(3, kMax, roots[3], roots[8], longProof));
  CHECK_FALSE(merkle::verifyConsistency(kMax - 1, kMax, roots[3], roots[8], longProof));
  CHECK_FALSE(merkle::verifyConsistency(3, 8, roots[3], roots[8], longProof));
  // The empty tree is a prefix of everything, but only with its real root and no proof.
  CHECK(merkle::verifyConsistency(0, 8, merkle::emptyRoot(), roots[8], {}));
  CHECK(merkle::verifyConsistency(0, 0, merkle::emptyRoot(), merkle::emptyRoot(), {}));
  CHECK_FALSE(merkle::verifyConsistency(0, 8, roots[1], roots[8], {}));
  CHECK_FALSE(merkle::verifyConsistency(0, 0, merkle::emptyRoot(), roots[1], {}));
}

// RFC 8032 section 7.1, TEST 1: the secret key as PKCS#8 PEM, its public key and the
// signature of the empty message.
const char* const kRfc8032Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
const char* const kRfc8032Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char* const kRfc8032EmptySig =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

// A P-256 public key: well-formed PEM, wrong algorithm.
const char* const kEcPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE40crcVUrXKZGZZejqvSZx59VtGT7\n"
    "0U6WVLZws+8fhV2jPTROTr5ahp/UGQa2btFy4MOILSWcb/EQ2o/tU1jmNA==\n"
    "-----END PUBLIC KEY-----\n";

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST_CASE("Ed25519 matches the RFC 8032 test vector", "[audit][signing]") {
  auto key = SigningKey::fromPrivatePem(kRfc8032Pem);
  REQUIRE(key.isOk());
  CHECK(key->publicKeyRaw() == unhex(kRfc8032Public));
  CHECK(key->sign("") == unhex(kRfc8032EmptySig));
  CHECK(verifySignature(unhex(kRfc8032Public), "", unhex(kRfc8032EmptySig)));
  CHECK(verifySignature(key->publicKeyPem(), "", unhex(kRfc8032EmptySig)));
  CHECK(key->keyId() == merkle::toHex(merkle::sha256(unhex(kRfc8032Public))).substr(0, 16));
}

TEST_CASE("Ed25519 signatures round-trip and any tampering fails", "[audit][signing]") {
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());
  auto other = SigningKey::generate();
  REQUIRE(other.isOk());
  const std::string message = "tree head 42 " + merkle::toHex(merkle::sha256("x"));
  std::string sig = key->sign(message);
  REQUIRE(sig.size() == 64);
  std::string pem = key->publicKeyPem();
  std::string raw = key->publicKeyRaw();
  CHECK(pem.rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  CHECK(raw.size() == 32);

  CHECK(verifySignature(pem, message, sig));
  CHECK(verifySignature(raw, message, sig));
  for (size_t bit = 0; bit < message.size() * 8; bit += 13) {
    CHECK_FALSE(verifySignature(raw, flipBit(message, bit), sig));
  }
  for (size_t bit = 0; bit < 512; bit += 7) {
    CHECK_FALSE(verifySignature(raw, message, flipBit(sig, bit)));
  }
  CHECK_FALSE(verifySignature(raw, message + "!", sig));
  CHECK_FALSE(verifySignature(raw, message, sig.substr(0, 63)));
  CHECK_FALSE(verifySignature(raw, message, sig + '\0'));
  CHECK_FALSE(verifySignature(other->publicKeyRaw(), message, sig));
  CHECK_FALSE(verifySignature(other->publicKeyPem(), message, sig));

  for (const std::string& garbage : std::vector<std::string>{std::string(), std::string("not a key"), raw.substr(0, 31), raw + "x",
                              std::string(kEcPublicPem), std::string(kRfc8032Pem),
                              "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}) {
    CHECK_FALSE(verifySignature(garbage, message, sig));
    CHECK(keyIdOf(garbage).empty());
  }

  CHECK(key->keyId().size() == 16);
  CHECK(key->keyId() == keyIdOf(pem));
  CHECK(key->keyId() == keyIdOf(raw));
  CHECK(key->keyId() != other->keyId());

  SigningKey moved = std::move(key).value();
  CHECK(verifySignature(raw, message, moved.sign(message)));
  CHECK(key->sign(message).empty());  // NOLINT(bugprone-use-after-move): documented as empty
  CHECK(key->publicKeyPem().empty());
  CHECK(key->keyId().empty());
}

TEST_CASE("a private key PEM that is not an unencrypted Ed25519 key is refused", "[audit][signing]") {
  for (const std::string& bad : std::vector<std::string>{std::string(), std::string("garbage"), std::string(kEcPublicPem),
                          "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}) {
    auto key = SigningKey::fromPrivatePem(bad);
    REQUIRE_FALSE(key.isOk());
    CHECK(key.status().code() == Status::Code::kInvalidArgument);
  }
}

TEST_CASE("loadOrCreate creates a 0600 key, reloads it and refuses a group-readable file", "[audit][signing]") {
  DataDir dir;
  const std::string path = (dir.path / "signing.pem").string();

  auto created = SigningKey::loadOrCreate(path);
  REQUIRE(created.isOk());
  CHECK(modeOf(path) == 0600);
  auto reloaded = SigningKey::loadOrCreate(path);
  REQUIRE(reloaded.isOk());
  CHECK(reloaded->keyId() == created->keyId());
  CHECK(verifySignature(created->publicKeyRaw(), "m", reloaded->sign("m")));

  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  auto refused = SigningKey::loadOrCreate(path);
  REQUIRE_FALSE(refused.isOk());
  CHECK(refused.status().code() == Status::Code::kFailedPrecondition);
  CHECK_THAT(refused.status().message(), Catch::Contains(path) && Catch::Contains("readable by group or others"));
  CHECK(modeOf(path) == 0644);  // refused, not "fixed" behind the operator's back

  const std::string junk = (dir.path / "junk.pem").string();
  std::ofstream(junk) << "not a key\n";
  REQUIRE(::chmod(junk.c_str(), 0600) == 0);
  auto unreadable = SigningKey::loadOrCreate(junk);
  REQUIRE_FALSE(unreadable.isOk());
  CHECK(unreadable.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(unreadable.status().message(), Catch::Contains(junk));

  const std::string nowhere = (dir.path / "missing-dir" / "signing.pem").string();
  auto uncreatable = SigningKey::loadOrCreate(nowhere);
  REQUIRE_FALSE(uncreatable.isOk());
  CHECK(uncreatable.status().code() == Status::Code::kIoError);
  CHECK_THAT(uncreatable.status().message(), Catch::Contains(nowhere));

  auto directory = SigningKey::loadOrCreate(dir.path.string());
  CHECK_FALSE(directory.isOk());
}

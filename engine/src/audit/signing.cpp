#include "vigil/signing.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "vigil/merkle.h"

namespace vigil {
namespace {

constexpr size_t kSignatureSize = 64;
constexpr size_t kRawKeySize = 32;
// An Ed25519 PEM is about 120 bytes; anything far bigger is not a key, and a cap keeps
// sizes within the int that BIO_new_mem_buf takes.
constexpr size_t kMaxPemSize = 64 * 1024;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The first queued OpenSSL error, for messages. Empties the thread's error queue so a
// failure here cannot be misread later by unrelated OpenSSL users on this thread (TLS).
std::string takeOpensslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

// OpenSSL's default passphrase callback prompts on the terminal; a daemon must never
// block there, so encrypted keys simply fail to load.
int noPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string memContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// A public key as 32 raw bytes or SubjectPublicKeyInfo PEM; null unless it is Ed25519.
PkeyPtr parsePublicKey(std::string_view publicKey) {
  PkeyPtr key;
  if (publicKey.size() == kRawKeySize) {
    key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(publicKey), publicKey.size()));
  } else if (!publicKey.empty() && publicKey.size() <= kMaxPemSize) {
    BioPtr bio(BIO_new_mem_buf(publicKey.data(), static_cast<int>(publicKey.size())));
    if (bio) {
      key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, noPassphrase, nullptr));
    }
  }
  if (key && EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    key.reset();
  }
  ERR_clear_error();
  return key;
}

std::string rawPublicKey(const EVP_PKEY* key) {
  unsigned char raw[kRawKeySize];
  size_t len = sizeof(raw);
  if (key == nullptr || EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != kRawKeySize) {
    ERR_clear_error();
    return "";
  }
  return std::string(reinterpret_cast<const char*>(raw), len);
}

std::string keyIdOfRaw(const std::string& raw) {
  if (raw.size() != kRawKeySize) {
    return "";
  }
  return merkle::toHex(merkle::sha256(raw)).substr(0, 16);
}

std::string errnoText(int err) { return std::strerror(err); }

bool writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Makes the new directory entry durable too: without it a crash can lose a key that has
// already signed tree heads. File systems that cannot sync directories say EINVAL.
Status syncParentDirectory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::string dirName = dir.empty() ? std::string(".") : dir.string();
  int fd = ::open(dirName.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Status::ioError("cannot open directory of signing key " + path + " to sync it: " + errnoText(err));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) {
    return Status::ioError("cannot sync directory of signing key " + path + ": " + errnoText(err));
  }
  return Status::ok();
}

// Reads and checks an open key file; takes ownership of fd.
Result<SigningKey> loadFromFd(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::ioError("cannot stat signing key " + path + ": " + errnoText(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::ioError("signing key " + path + " is not a regular file");
  }
  // Checked on the open descriptor, not by name, so the file cannot be swapped in between.
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::failedPrecondition("signing key " + path + " is readable by group or others (mode " + mode +
                                      "); restrict it to its owner (chmod 600)");
  }
  // Fixed-size buffer, so no reallocation leaves stray copies of the key; wiped after use.
  std::vector<char> buf(kMaxPemSize + 1);
  size_t used = 0;
  while (used < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + used, buf.size() - used);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      OPENSSL_cleanse(buf.data(), buf.size());
      return Status::ioError("cannot read signing key " + path + ": " + errnoText(err));
    }
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  if (used > kMaxPemSize) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return Status::ioError("signing key " + path + " is too large to be an Ed25519 PEM key");
  }
  // A key file that exists is never replaced: checkpoints signed by a new key would not
  // verify against the one published.
  const std::string remedy =
      "; it is left as it is, never replaced by a new key: restore it from the backup of the data directory's keys/ "
      "(docs/OPERATIONS.md, \"Start-up checks and restoring from a backup\")";
  if (used == 0) {
    return Status::invalidArgument("signing key " + path + " is empty (0 bytes)" + remedy);
  }
  std::string pem(buf.data(), used);
  OPENSSL_cleanse(buf.data(), buf.size());
  auto key = SigningKey::fromPrivatePem(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key.isOk()) {
    return Status::invalidArgument("signing key " + path + " does not hold an unencrypted Ed25519 private key in PEM" +
                                   remedy);
  }
  return key;
}

}  // namespace

SigningKey::SigningKey(SigningKey&& other) noexcept : key_(std::exchange(other.key_, nullptr)) {}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(key_);
    key_ = std::exchange(other.key_, nullptr);
  }
  return *this;
}

SigningKey::~SigningKey() { EVP_PKEY_free(key_); }

Result<SigningKey> SigningKey::generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &key) != 1) {
    return Status::internal("cannot generate an Ed25519 key: " + takeOpensslError());
  }
  return SigningKey(key);
}

Result<SigningKey> SigningKey::fromPrivatePem(const std::string& pem) {
  if (pem.empty() || pem.size() > kMaxPemSize) {
    return Status::invalidArgument("not an Ed25519 private key in PEM");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr) : nullptr);
  ERR_clear_error();
  if (!key || EVP_PKEY_is_a(key.get(), "ED25519") != 1) {
    return Status::invalidArgument("not an unencrypted Ed25519 private key in PEM");
  }
  return SigningKey(key.release());
}

Result<SigningKey> SigningKey::createAt(const std::string& path) {
  auto key = generate();
  if (!key.isOk()) {
    return key;
  }
  // A secure-memory BIO is wiped when freed, unlike a plain memory BIO.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  char* pem = nullptr;
  long pemSize = 0;
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key->key_, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      (pemSize = BIO_get_mem_data(bio.get(), &pem)) <= 0) {
    return Status::internal("cannot encode a new signing key for " + path + ": " + takeOpensslError());
  }
  // O_EXCL: never overwrite a key that appeared since we looked; 0600 from the first byte.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) {
      return Status::alreadyExists("signing key " + path + " appeared while being created");
    }
    return Status::ioError("cannot create signing key " + path + ": " + errnoText(err));
  }
  // A half-written key would be refused at every later start, so remove it on failure.
  auto fail = [&](const char* what, int err) -> Status {
    ::unlink(path.c_str());
    return Status::ioError(std::string("cannot ") + what + " signing key " + path + ": " + errnoText(err));
  };
  if (!writeAll(fd, pem, static_cast<size_t>(pemSize))) {
    int err = errno;
    ::close(fd);
    return fail("write", err);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return fail("sync", err);
  }
  if (::close(fd) != 0) {
    return fail("close", errno);
  }
  Status synced = syncParentDirectory(path);
  if (!synced.isOk()) {
    return synced;
  }
  return key;
}

Result<SigningKey> SigningKey::loadOrCreate(const std::string& path) {
  // Two rounds: if another process creates the file between our open and our create,
  // load theirs rather than fail.
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      return loadFromFd(fd, path);
    }
    int err = errno;
    if (err != ENOENT) {
      return Status::ioError("cannot open signing key " + path + ": " + errnoText(err));
    }
    auto created = createAt(path);
    if (created.isOk() || created.status().code() != Status::Code::kAlreadyExists) {
      return created;
    }
  }
  return Status::ioError("cannot create signing key " + path +
                         ": it exists but cannot be opened (a dangling symbolic link?)");
}

std::string SigningKey::publicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (key_ == nullptr || !bio || PEM_write_bio_PUBKEY(bio.get(), key_) != 1) {
    ERR_clear_error();
    return "";
  }
  return memContents(bio.get());
}

std::string SigningKey::publicKeyRaw() const { return rawPublicKey(key_); }

std::string SigningKey::keyId() const { return keyIdOfRaw(rawPublicKey(key_)); }

std::string SigningKey::sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(kSignatureSize, '\0');
  size_t len = sig.size();
  // Ed25519 hashes internally (PureEdDSA), hence the null digest and the one-shot call.
  if (key_ == nullptr || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(message),
                     message.size()) != 1 ||
      len != kSignatureSize) {
    ERR_clear_error();
    return "";
  }
  return sig;
}

bool verifySignature(std::string_view publicKey, std::string_view message, std::string_view signature) {
  if (signature.size() != kSignatureSize) {
    return false;
  }
  PkeyPtr key = parsePublicKey(publicKey);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = key && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string keyIdOf(std::string_view publicKey) {
  PkeyPtr key = parsePublicKey(publicKey);
  return key ? keyIdOfRaw(rawPublicKey(key.get())) : "";
}

std::string rawPublicKeyOf(std::string_view publicKey) {
  PkeyPtr key = parsePublicKey(publicKey);
  return key ? rawPublicKey(key.get()) : "";
}

}  // namespace vigil

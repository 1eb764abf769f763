// Ed25519 signing keys for the audit chain (tree heads are signed so an auditor holding
// only the public key can tell a genuine log from a rewritten one).
//
// SigningKey owns an OpenSSL key and is movable, not copyable; a moved-from key is empty
// and its methods return empty strings. Its const methods are thread-safe. Nothing here
// throws, and no error message contains key material.
#pragma once

#include <string>
#include <string_view>

#include "vigil/status.h"

// OpenSSL's EVP_PKEY, forward-declared so this header does not pull in OpenSSL (the
// engine links it privately).
struct evp_pkey_st;

namespace vigil {

class SigningKey {
 public:
  // A fresh key from the system's random source.
  static Result<SigningKey> generate();

  // The daemon's long-lived key. Reads the PEM private key (PKCS#8) at path. If there is
  // no file, generates a key and writes it there with mode 0600 (created exclusively,
  // fsynced with its directory). Errors name the path: ioError when it cannot be read,
  // created or written; invalidArgument when it does not hold an unencrypted Ed25519
  // private key; failedPrecondition when the existing file grants any permission to group
  // or others (checked before its contents are read).
  static Result<SigningKey> loadOrCreate(const std::string& path);

  // A PEM private key (PKCS#8 or traditional). invalidArgument when it is not an
  // unencrypted Ed25519 private key.
  static Result<SigningKey> fromPrivatePem(const std::string& pem);

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  std::string publicKeyPem() const;
  // The 32-byte raw public key.
  std::string publicKeyRaw() const;
  // First 16 hex characters of SHA-256 of the raw public key: a short name for the key in
  // signed records, not a security boundary.
  std::string keyId() const;
  // The 64-byte Ed25519 signature of message; "" only if OpenSSL fails.
  std::string sign(std::string_view message) const;

 private:
  explicit SigningKey(evp_pkey_st* key) : key_(key) {}
  // loadOrCreate's create half; alreadyExists if path appeared meanwhile.
  static Result<SigningKey> createAt(const std::string& path);
  evp_pkey_st* key_ = nullptr;
};

// Checks a 64-byte Ed25519 signature of message. publicKey is SubjectPublicKeyInfo PEM or
// the 32 raw bytes. Any malformed key or signature gives false.
bool verifySignature(std::string_view publicKey, std::string_view message, std::string_view signature);

// SigningKey::keyId() of a public key given as PEM or 32 raw bytes; "" if malformed.
std::string keyIdOf(std::string_view publicKey);
// The 32 raw bytes of a public key given as PEM or raw bytes; "" if malformed.
std::string rawPublicKeyOf(std::string_view publicKey);

}  // namespace vigil

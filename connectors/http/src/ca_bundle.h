// CaBundle: extra trusted CA certificates, read once at registration and added to each
// connection's trust store next to the system CAs ("in addition to", not "instead of").
// Immutable after load; addTo() is thread-safe (certificates are reference counted).
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "vigil/status.h"

namespace vigil::http {

class CaBundle {
 public:
  // invalidArgument when `path` cannot be read or holds no PEM certificate.
  static Result<std::shared_ptr<const CaBundle>> load(const std::string& path);

  CaBundle(const CaBundle&) = delete;
  CaBundle& operator=(const CaBundle&) = delete;
  ~CaBundle();

  // Adds every certificate to the context's store; false when none could be added.
  bool addTo(SSL_CTX* ctx) const;

 private:
  CaBundle() = default;
  std::vector<X509*> certs_;  // owned
};

}  // namespace vigil::http

// What the connectors that speak through libcurl (http, webhook, email) share: starting
// libcurl once per process, extra trusted CAs added next to the system ones, and which
// libcurl errors are TLS failures (never retried: a wrong certificate stays wrong).
#pragma once

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "vigil/status.h"

namespace vigil::curl {

// curl_global_init, exactly once per process whichever connector asks first (it is not
// thread-safe, so two connectors must not each call it).
Status init();

// TLS handshake, certificate and trust failures.
bool isTlsFailure(CURLcode c);

// CaBundle: extra trusted CA certificates, read once at registration and added to each
// connection's trust store next to the system CAs ("in addition to", not "instead of").
// Immutable after load; addTo() is thread-safe (certificates are reference counted).
class CaBundle {
 public:
  // invalidArgument ("caFile 'PATH' cannot be read or holds no PEM certificate").
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

// CURLOPT_SSL_CTX_FUNCTION with CURLOPT_SSL_CTX_DATA = a const CaBundle*.
CURLcode addCaBundle(CURL* handle, void* sslCtx, void* bundle);

}  // namespace vigil::curl

// Transport: one HTTP exchange (no redirects followed) over a fresh libcurl handle whose
// connections, DNS answers and TLS sessions come from a pool the transport's copies share,
// so consecutive calls to one system reuse a kept-alive connection instead of a new TCP
// (and TLS) handshake each.
//
// It enforces what must hold while bytes move: the response size limit (the transfer is
// aborted as soon as it passes, or at once when Content-Length announces more), and the
// address check on every connection libcurl opens (a reused connection was checked when it
// was opened). Judging statuses, redirects and budgets is the caller's (client.h).
// Immutable after construction; perform() is thread-safe.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigil/curl_common.h"
#include "destination.h"
#include "vigil/status.h"

namespace vigil::http {

struct ClientCert {
  std::string certFile;  // PEM
  std::string keyFile;   // PEM; empty: the key is in certFile
};

struct HopRequest {
  std::string method;
  const Destination* destination = nullptr;  // already checked against the policy
  const std::string* body = nullptr;         // nullptr: no body
  std::vector<std::string> headerLines;      // "Name: value"; "Name:" removes a libcurl default
  const ClientCert* clientCert = nullptr;
  std::chrono::milliseconds timeout{0};
};

struct HopResponse {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
  std::string redirectUrl;      // absolute, when the response is a redirect with Location
  bool tooLarge = false;        // aborted at maxBytes
  bool addressRefused = false;  // a connection was about to reach a forbidden address
};


class ConnectionPool;

class Transport {
 public:
  Transport(std::size_t maxBytes, std::shared_ptr<const curl::CaBundle> extraCas);

  HopResponse perform(const HopRequest& request) const;

 private:
  std::size_t maxBytes_;
  std::shared_ptr<const curl::CaBundle> extraCas_;  // may be null
  // One pool per transport: its connections were all made with these CAs, so none is
  // reused under another trust setting.
  std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace vigil::http

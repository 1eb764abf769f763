// A small blocking HTTP/1.1 client for the CLI's client subcommands (Boost.Beast).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "vigil/status.h"

namespace vigil::daemon {

struct ClientResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `server` is "http://HOST:PORT" or "https://HOST:PORT". HTTPS verifies the server's
  // certificate and name against the system CAs, or against `caFile` when given. Each
  // read and write waits at most `timeout`.
  static Result<HttpClient> create(const std::string& server, const std::string& caFile = "",
                                   std::chrono::seconds timeout = std::chrono::seconds(60));

  Result<ClientResponse> send(const std::string& method, const std::string& target,
                              const std::map<std::string, std::string>& headers, const std::string& body) const;

 private:
  std::string host_;
  std::string port_;
  bool tls_ = false;
  std::string caFile_;
  std::chrono::seconds timeout_{60};
};

}  // namespace vigil::daemon

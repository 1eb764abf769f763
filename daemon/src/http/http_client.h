// A small blocking HTTP/1.1 client for the CLI's client subcommands (Boost.Beast).
#pragma once

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
  // `server` is "http://HOST:PORT"; fails on anything else.
  static Result<HttpClient> create(const std::string& server);

  Result<ClientResponse> send(const std::string& method, const std::string& target,
                              const std::map<std::string, std::string>& headers, const std::string& body) const;

 private:
  std::string host_;
  std::string port_;
};

}  // namespace vigil::daemon

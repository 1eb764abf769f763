// HttpServer: the daemon's HTTP/1.1 server on Boost.Beast, with its own limits.
//
// Debian's cpp-httplib 0.11.4 has server-side flaws fixed only upstream (unbounded chunked
// bodies, header lines and header counts, and a client-sent REMOTE_ADDR overriding the
// peer), so the API is served here instead: Beast's parser enforces a header size limit and
// a body limit whatever the framing, the peer address is taken from the socket only, and
// each connection has read deadlines so a slow client cannot hold a slot forever.
// Handlers run on a separate pool, never on the I/O threads. start()/stop() are
// idempotent; stop() returns once every thread has finished.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "http/http_types.h"

namespace vigil::daemon {

struct HttpLimits {
  size_t maxHeaderBytes = 16 * 1024;
  size_t maxBodyBytes = 1024 * 1024;
  size_t maxConnections = 512;
  int readTimeoutSeconds = 15;  // a request must arrive whole within this
  int idleTimeoutSeconds = 60;  // keep-alive
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(HttpLimits limits, HttpHandler handler, std::shared_ptr<spdlog::logger> log);
  ~HttpServer();

  // Serves HTTPS (TLS 1.2+) with this PEM certificate chain and key; call before start().
  bool useTls(const std::string& certFile, const std::string& keyFile, std::string* error);
  // Binds and listens; port 0 picks a free port (see port()). Fails with a message
  // naming the address when it cannot bind.
  bool start(const std::string& host, unsigned short port, std::string* error);
  void stop();
  unsigned short port() const;

  struct Impl;  // opaque; public only so the connection sessions can reach it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::daemon

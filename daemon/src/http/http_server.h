// HttpServer: the daemon's HTTP/1.1 server on Boost.Beast, with its own limits.
//
// Debian's cpp-httplib 0.11.4 has server-side flaws fixed only upstream (unbounded chunked
// bodies, header lines and header counts, and a client-sent REMOTE_ADDR overriding the
// peer), so the API is served here instead: Beast's parser enforces a header size limit and
// a body limit whatever the framing, the peer address is taken from the socket only, and
// each connection has read deadlines so a slow client cannot hold a slot forever.
// Handlers run on a separate pool, never on the I/O threads. start()/stop() are
// idempotent; stop() returns once every thread has finished.
//
// Strict where HTTP/1.1 is ambiguous, because a front proxy may read the same bytes
// otherwise (request smuggling). Each of these is answered 400 `bad_request` and the
// connection closed, so nothing after it is ever read as a request:
//   - a Transfer-Encoding other than exactly `chunked` (a list, `gzip`, `identity`, a
//     second Transfer-Encoding), or Transfer-Encoding beside Content-Length;
//   - a Content-Length that is not one number (Beast alone accepts `5, 5` and repeats);
//   - any of Authorization, Content-Length, Content-Type, Host, Idempotency-Key,
//     Transfer-Encoding or X-Vigil-Purpose given more than once;
//   - an obs-folded header line (one continued on the next line after SP or HTAB),
//     found in the raw bytes, since Beast unfolds it into an ordinary value;
//   - a chunked body with trailer fields (Beast would merge them into the headers).
// Per peer address (the socket's; loopback is an address like any other), a new
// connection is answered 503 `too_many_connections` and closed at once when that address
// already has maxConnectionsPerAddress open, or maxPendingHeadersPerAddress still sending
// a request's headers, so one source trickling headers cannot use up maxConnections.
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
  size_t maxConnectionsPerAddress = 64;
  // Connections from one address that are still sending a request's headers (from accept,
  // or a keep-alive request's first byte, until its header block is complete).
  size_t maxPendingHeadersPerAddress = 16;
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

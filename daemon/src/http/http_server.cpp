// The Beast server: one session object per connection, asynchronous reads and writes on
// two I/O threads, handlers on a separate pool.
#include "http/http_server.h"

#include <array>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace vigil::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  Impl(HttpLimits l, HttpHandler h, std::shared_ptr<spdlog::logger> lg)
      : limits(l), handler(std::move(h)), log(std::move(lg)) {}

  HttpLimits limits;
  HttpHandler handler;
  std::shared_ptr<spdlog::logger> log;
  // Declared before ioc and pool: sessions still queued there when those are destroyed
  // release their counts in their destructors.
  std::atomic<size_t> connections{0};
  // Load by peer address: open connections, and those still sending a request's headers.
  struct PeerLoad {
    size_t connections = 0;
    size_t pendingHeaders = 0;
  };
  std::mutex peersMu;
  std::map<net::ip::address, PeerLoad> peers;  // GUARDED_BY(peersMu)
  net::io_context ioc{2};
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<net::ssl::context> tls;  // set when serving HTTPS
  net::thread_pool pool{4};
  std::vector<std::thread> threads;
  std::atomic<bool> running{false};

  void accept();
  // Counts a new connection from `a` as open and sending headers; false (nothing
  // counted) when `a` is at either per-address limit.
  bool admit(const net::ip::address& a);
  // A keep-alive connection starts its next request; false at the pending limit.
  bool beginHeaders(const net::ip::address& a);
  void endHeaders(const net::ip::address& a);
  void release(const net::ip::address& a);
};

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One address per host whatever the listening socket's family.
net::ip::address peerKey(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a;
}

// Finds the end of a request's header block in the raw bytes, before Beast sees them,
// and spots obs-fold there: Beast joins a continued line into one value, after which a
// folded `Authorization` cannot be told from a plain one.
class HeaderScan {
 public:
  enum class Verdict { needMore, complete, folded };

  Verdict feed(const char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const char c = p[i];
      ++length_;
      if (c == '\n') {
        if (lineLength_ == 0) return Verdict::complete;
        lineLength_ = 0;
        atLineStart_ = true;
        firstLine_ = false;
        continue;
      }
      if (c == '\r') continue;  // a stray CR is Beast's to refuse
      if (atLineStart_ && !firstLine_ && (c == ' ' || c == '\t')) return Verdict::folded;
      atLineStart_ = false;
      ++lineLength_;
    }
    return Verdict::needMore;
  }
  size_t length() const { return length_; }  // bytes fed so far

 private:
  size_t length_ = 0;
  size_t lineLength_ = 0;
  bool atLineStart_ = true;
  bool firstLine_ = true;
};

using Request = http::request<http::string_body>;

// Why a parsed header block is refused, or empty. Beast settles the rest: Content-Length
// after `Transfer-Encoding: chunked` and the reverse, two differing Content-Lengths.
std::string framingProblem(const Request& req) {
  // Headers that decide who asks, how much is read, or why: a second copy would let two
  // readers of the same bytes disagree.
  static constexpr std::array<const char*, 7> kOnce = {"Authorization",   "Content-Length",    "Content-Type",   "Host",
                                                       "Idempotency-Key", "Transfer-Encoding", "X-Vigil-Purpose"};
  std::array<int, kOnce.size()> seen{};
  for (const auto& f : req) {
    for (size_t i = 0; i < kOnce.size(); ++i) {
      if (beast::iequals(f.name_string(), kOnce[i]) && ++seen[i] > 1) {
        return "header " + std::string(kOnce[i]) + " given more than once";
      }
    }
  }
  auto te = req.find(http::field::transfer_encoding);
  auto cl = req.find(http::field::content_length);
  if (te != req.end() && !beast::iequals(te->value(), "chunked")) {
    return "Transfer-Encoding other than chunked is not supported";
  }
  if (te != req.end() && cl != req.end()) return "both Transfer-Encoding and Content-Length";
  if (cl != req.end()) {
    const auto v = cl->value();
    if (v.empty() || v.find_first_not_of("0123456789") != beast::string_view::npos) return "Content-Length is not one number";
  }
  return {};
}

// A complete 503 written at accept, before anything is parsed.
std::string busyResponse(const std::string& message) {
  const std::string body = HttpResponse::error(503, "too_many_connections", message).body;
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One connection. Stream is beast::tcp_stream (HTTP) or beast::ssl_stream over it (HTTPS).
// A request is read in two steps: its header block is gathered raw (HeaderScan), then
// parsed and checked whole (framingProblem) before any of the body is read.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  // The read buffer may hold a whole header block plus some body, so the parser's
  // header limit (431) is what stops an oversized header, not the buffer. The connection
  // was admitted (counted open and sending headers) for `address`.
  Session(tcp::socket socket, net::ip::address address, HttpServer::Impl& impl)
      : stream_(makeStream(std::move(socket), impl)),
        impl_(impl),
        address_(std::move(address)),
        buffer_(impl.limits.maxHeaderBytes + 65536) {}
  ~Session() {
    endPending();
    impl_.release(address_);
    --impl_.connections;
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        beast::get_lowest_layer(self->stream_).expires_after(std::chrono::seconds(self->impl_.limits.readTimeoutSeconds));
        self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) {
            self->impl_.log->info("TLS handshake with {} failed: {}", self->peer(), ec.message());
            self->close();
            return;
          }
          self->read();
        });
      } else {
        self->read();
      }
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(impl_.limits.maxHeaderBytes));
    parser_->body_limit(impl_.limits.maxBodyBytes);
    parser_->eager(false);
    scan_ = HeaderScan();
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(served_ == 0 ? impl_.limits.readTimeoutSeconds : impl_.limits.idleTimeoutSeconds));
    gatherHeader();
  }

  void gatherHeader() {
    const size_t have = buffer_.size();
    if (have > scan_.length()) {
      if (!pending_) {
        // A keep-alive request's first byte: from here it is sending headers, and the
        // whole request must arrive within the read timeout, not the idle one.
        if (!impl_.beginHeaders(address_)) {
          refuse(HttpResponse::error(503, "too_many_connections", "too many connections from this address; try again shortly"),
                 "too many connections from its address still sending headers");
          return;
        }
        pending_ = true;
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(impl_.limits.readTimeoutSeconds));
      }
      const auto* bytes = static_cast<const char*>(buffer_.data().data());
      const auto verdict = scan_.feed(bytes + scan_.length(), have - scan_.length());
      if (verdict == HeaderScan::Verdict::folded) {
        refuse(HttpResponse::error(400, "bad_request", "malformed HTTP request: obs-fold (a header line continued on the next)"),
               "obs-fold");
        return;
      }
      if (scan_.length() > impl_.limits.maxHeaderBytes) {
        refuse(HttpResponse::error(431, "headers_too_large",
                                   "request headers exceed " + std::to_string(impl_.limits.maxHeaderBytes) + " bytes"),
               "header block too large");
        return;
      }
      if (verdict == HeaderScan::Verdict::complete) {
        parseHeader();
        return;
      }
    }
    const size_t room = beast::read_size(buffer_, 65536);
    if (room == 0) {
      refuseUnreadable(make_error_code(http::error::buffer_overflow));
      return;
    }
    stream_.async_read_some(buffer_.prepare(room), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) {
        // Gone, timed out or broken before a whole header block: nothing to answer.
        self->close();
        return;
      }
      self->gatherHeader();
    });
  }

  void parseHeader() {
    endPending();
    beast::error_code ec;
    while (!parser_->is_header_done()) {
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) ec = {};
      if (ec || used == 0) break;
    }
    if (ec) {
      refuseUnreadable(ec);
      return;
    }
    if (!parser_->is_header_done()) {
      // HeaderScan saw a blank line where Beast sees none (a bare LF among CRLFs).
      refuse(HttpResponse::error(400, "bad_request", "malformed HTTP request: bad line ending"), "bad line ending");
      return;
    }
    const std::string problem = framingProblem(parser_->get());
    if (!problem.empty()) {
      refuse(HttpResponse::error(400, "bad_request", "malformed HTTP request: " + problem), problem);
      return;
    }
    headerFields_ = static_cast<size_t>(std::distance(parser_->get().begin(), parser_->get().end()));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::onRead, this->shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == beast::error::timeout || ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated) {
      close();
      return;
    }
    if (ec) {
      refuseUnreadable(ec);
      return;
    }
    auto& req = parser_->get();
    if (static_cast<size_t>(std::distance(req.begin(), req.end())) != headerFields_) {
      // Beast adds trailer fields to the headers; refusing them is the one way to be
      // sure none is taken for a header (an Authorization sent after the body, say).
      refuse(HttpResponse::error(400, "bad_request", "malformed HTTP request: trailer fields are not accepted"), "trailer fields");
      return;
    }
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    size_t q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) {
      std::string_view qs = std::string_view(r.target).substr(q + 1);
      size_t pos = 0;
      while (pos <= qs.size()) {
        size_t amp = qs.find('&', pos);
        std::string_view pair = qs.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        size_t eq = pair.find('=');
        if (!pair.empty()) r.query[percentDecode(pair.substr(0, eq), true)] = eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
      }
    }
    for (const auto& f : req) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
    r.body = std::move(req.body());
    r.peer = peer();
    keepAlive_ = req.keep_alive();
    ++served_;
    net::post(impl_.pool, [self = this->shared_from_this(), r = std::move(r)]() mutable {
      HttpResponse resp;
      try {
        resp = self->impl_.handler(r);
      } catch (const std::exception& e) {
        self->impl_.log->error("handler for {} {} failed: {}", r.method, r.path, e.what());
        resp = HttpResponse::error(500, "internal", "internal error");
      }
      net::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable { self->write(std::move(resp), false); });
    });
  }

  // The request could not be read safely: answer once and close, so a confused framing
  // can never be read as a second request.
  void refuseUnreadable(beast::error_code ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      refuse(HttpResponse::error(431, "headers_too_large", "request headers exceed " + std::to_string(impl_.limits.maxHeaderBytes) + " bytes"),
             ec.message());
    } else if (ec == http::error::body_limit) {
      refuse(HttpResponse::error(413, "body_too_large", "request body exceeds " + std::to_string(impl_.limits.maxBodyBytes) + " bytes"),
             ec.message());
    } else {
      refuse(HttpResponse::error(400, "bad_request", "malformed HTTP request: " + ec.message()), ec.message());
    }
  }

  void refuse(HttpResponse r, const std::string& why) {
    impl_.log->info("refused request from {}: {}", peer(), why);
    write(std::move(r), true);
  }

  void write(HttpResponse r, bool closeAfter) {
    endPending();
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "vigil");
    res->set(http::field::content_type, r.contentType);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keepAlive_ && !closeAfter);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(impl_.limits.readTimeoutSeconds));
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) {
        self->close();
        return;
      }
      if (!res->keep_alive()) {
        self->lingerClose();
        return;
      }
      self->read();
    });
  }

  // Closing with unread bytes makes the kernel send a reset, which can destroy the answer
  // before the client reads it; so stop sending, then discard what arrives (never parsed)
  // for a bounded time and amount before closing.
  void lingerClose() {
    beast::error_code ec;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest.expires_after(std::chrono::seconds(2));
    buffer_.consume(buffer_.size());
    drain(0);
  }

  void drain(size_t discarded) {
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this(), discarded](beast::error_code ec, std::size_t n) {
      if (ec || discarded + n > 256 * 1024) {
        self->close();
        return;
      }
      self->drain(discarded + n);
    });
  }

  void close() {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }

  void endPending() {
    if (pending_) impl_.endHeaders(address_);
    pending_ = false;
  }

  std::string peer() {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    return ec ? std::string("unknown") : ep.address().to_string();
  }

  static Stream makeStream(tcp::socket socket, HttpServer::Impl& impl) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *impl.tls);
    } else {
      return Stream(std::move(socket));
    }
  }

  Stream stream_;
  HttpServer::Impl& impl_;
  const net::ip::address address_;  // the key of impl_.peers
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HeaderScan scan_;
  size_t headerFields_ = 0;  // fields in the header block; more after the body are trailers
  bool pending_ = true;      // counted in impl_.peers as sending headers (admitted so)
  bool keepAlive_ = false;
  int served_ = 0;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!running) return;
    if (!ec) {
      beast::error_code pec;
      const auto remote = socket.remote_endpoint(pec);
      const auto address = peerKey(remote.address());
      std::string busy;
      if (pec) {
        socket.close(pec);  // gone already
      } else if (connections.load() >= limits.maxConnections) {
        busy = "try again shortly";
      } else if (!admit(address)) {
        busy = "too many connections from this address; try again shortly";
      }
      if (!busy.empty()) {
        // Over a limit: a short, complete answer, then close; nothing is parsed.
        const std::string answer = busyResponse(busy);
        beast::error_code wec;
        net::write(socket, net::buffer(answer.data(), answer.size()), wec);
        socket.close(wec);
      } else if (socket.is_open()) {
        ++connections;
        if (tls) {
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), address, *this)->start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(std::move(socket), address, *this)->start();
        }
      }
    }
    accept();
  });
}

bool HttpServer::Impl::admit(const net::ip::address& a) {
  std::lock_guard<std::mutex> lock(peersMu);
  auto& load = peers[a];
  if (load.connections >= limits.maxConnectionsPerAddress || load.pendingHeaders >= limits.maxPendingHeadersPerAddress) {
    if (load.connections == 0) peers.erase(a);
    return false;
  }
  ++load.connections;
  ++load.pendingHeaders;
  return true;
}

bool HttpServer::Impl::beginHeaders(const net::ip::address& a) {
  std::lock_guard<std::mutex> lock(peersMu);
  auto& load = peers[a];
  if (load.pendingHeaders >= limits.maxPendingHeadersPerAddress) return false;
  ++load.pendingHeaders;
  return true;
}

void HttpServer::Impl::endHeaders(const net::ip::address& a) {
  std::lock_guard<std::mutex> lock(peersMu);
  --peers[a].pendingHeaders;
}

void HttpServer::Impl::release(const net::ip::address& a) {
  std::lock_guard<std::mutex> lock(peersMu);
  auto it = peers.find(a);
  if (it != peers.end() && --it->second.connections == 0) peers.erase(it);
}

HttpServer::HttpServer(HttpLimits limits, HttpHandler handler, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<Impl>(limits, std::move(handler), std::move(log))) {}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::useTls(const std::string& certFile, const std::string& keyFile, std::string* error) {
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  // TLS 1.2 and later only.
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                   net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
  beast::error_code ec;
  ctx->use_certificate_chain_file(certFile, ec);
  if (ec) {
    *error = "cannot use TLS certificate " + certFile + ": " + ec.message();
    return false;
  }
  ctx->use_private_key_file(keyFile, net::ssl::context::pem, ec);
  if (ec) {
    *error = "cannot use TLS key " + keyFile + ": " + ec.message();
    return false;
  }
  impl_->tls = std::move(ctx);
  return true;
}

bool HttpServer::start(const std::string& host, unsigned short port, std::string* error) {
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) {
    *error = "'" + host + "' is not an IP address";
    return false;
  }
  tcp::endpoint ep(address, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message();
    return false;
  }
  impl_->running = true;
  impl_->accept();
  for (int i = 0; i < 2; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return true;
}

void HttpServer::stop() {
  if (!impl_->running.exchange(false)) return;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->pool.join();  // handlers in progress finish
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

}  // namespace vigil::daemon

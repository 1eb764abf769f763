// The Beast server: one session object per connection, asynchronous reads and writes on
// two I/O threads, handlers on a separate pool.
#include "http/http_server.h"
#include "http/http_framing.h"

#include <deque>
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

// One address per host whatever the listening socket's family.
net::ip::address peerKey(const net::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6());
  return a;
}

// A complete 503 written at accept, before anything is parsed.
std::string busyResponse(const std::string& message) {
  const std::string body = HttpResponse::error(503, "too_many_connections", message).body;
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One connection. Stream is beast::tcp_stream (HTTP) or beast::ssl_stream over it (HTTPS).
// A request is read in the steps of its RequestFramer (http_framing.h): its header block is
// gathered raw, then parsed and checked whole before any of the body is read.
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
        buffer_(readBufferBytes(impl.limits)) {}
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
    framer_.emplace(impl_.limits);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(served_ == 0 ? impl_.limits.readTimeoutSeconds : impl_.limits.idleTimeoutSeconds));
    gatherHeader();
  }

  void gatherHeader() {
    const size_t have = buffer_.size();
    if (have > framer_->scanned()) {
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
      bool complete = false;
      if (auto refused = framer_->scanHeader(std::string_view(static_cast<const char*>(buffer_.data().data()), have), &complete)) {
        refuse(std::move(*refused));
        return;
      }
      if (complete) {
        parseHeader();
        return;
      }
    }
    const size_t room = beast::read_size(buffer_, 65536);
    if (room == 0) {
      refuse(unreadableRequest(http::error::buffer_overflow, impl_.limits));
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
    if (auto refused = framer_->parseHeader(buffer_)) {
      refuse(std::move(*refused));
      return;
    }
    http::async_read(stream_, buffer_, framer_->parser(), beast::bind_front_handler(&Session::onRead, this->shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == beast::error::timeout || ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated) {
      close();
      return;
    }
    if (ec) {
      refuse(unreadableRequest(ec, impl_.limits));
      return;
    }
    RequestFramer::Framed framed;
    if (auto refused = framer_->finish(&framed)) {
      refuse(std::move(*refused));
      return;
    }
    HttpRequest r = std::move(framed.request);
    r.peer = peer();
    keepAlive_ = framed.keepAlive;
    ++served_;
    net::post(impl_.pool, [self = this->shared_from_this(), r = std::move(r)]() mutable {
      HttpResponse resp;
      try {
        resp = self->impl_.handler(r);
      } catch (const std::exception& e) {
        self->impl_.log->error("handler for {} {} failed: {}", r.method, r.path, e.what());
        resp = HttpResponse::error(500, "internal", "internal error");
      }
      if (resp.later) {
        // The answer comes when it is known; no handler thread waits for it.
        auto later = std::move(resp.later);
        later([self](HttpResponse answer) {
          net::post(self->stream_.get_executor(), [self, a = std::move(answer)]() mutable { self->write(std::move(a), false); });
        });
        return;
      }
      net::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        if (resp.stream) {
          self->startStream(std::move(resp));
        } else {
          self->write(std::move(resp), false);
        }
      });
    });
  }

  // A streamed answer's sink: chunks go to the session's executor, in order.
  class Sink : public StreamSink {
   public:
    explicit Sink(std::shared_ptr<Session> s) : session_(std::move(s)) {}
    void send(std::string chunk) override {
      std::lock_guard lock(mu_);
      if (!session_) return;
      net::post(session_->stream_.get_executor(), [s = session_, c = std::move(chunk)]() mutable { s->queueChunk(std::move(c)); });
    }
    void close() override {
      std::shared_ptr<Session> s;
      {
        std::lock_guard lock(mu_);
        s = std::move(session_);
      }
      if (s) net::post(s->stream_.get_executor(), [s] { s->finishStream(); });
    }
    bool closed() const override {
      std::lock_guard lock(mu_);
      return !session_;
    }
    void gone() {
      std::lock_guard lock(mu_);
      session_.reset();
    }

   private:
    mutable std::mutex mu_;
    std::shared_ptr<Session> session_;  // GUARDED_BY(mu_); null once closed
  };

  // Sends the status and headers, chunked, then hands the body's sink to its owner.
  void startStream(HttpResponse r) {
    endPending();
    auto res = std::make_shared<http::response<http::empty_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "vigil");
    res->set(http::field::content_type, r.contentType);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->chunked(true);
    res->keep_alive(false);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(impl_.limits.readTimeoutSeconds));
    http::async_write_header(stream_, *sr, [self = this->shared_from_this(), res, sr, open = std::move(r.stream)](beast::error_code ec, std::size_t) {
      if (ec) {
        self->close();
        return;
      }
      auto sink = std::make_shared<Sink>(self);
      self->sink_ = sink;
      open(sink);
    });
  }

  void queueChunk(std::string chunk) {
    if (finishing_ || chunk.empty()) return;
    out_.push_back(std::move(chunk));
    writeNext();
  }

  void finishStream() {
    finishing_ = true;
    writeNext();
  }

  void writeNext() {
    if (writing_) return;
    if (out_.empty()) {
      if (!finishing_ || ended_) return;
      ended_ = true;
      writing_ = true;
      net::async_write(stream_, http::make_chunk_last(), [self = this->shared_from_this()](beast::error_code, std::size_t) {
        self->writing_ = false;
        self->dropSink();
        self->lingerClose();
      });
      return;
    }
    writing_ = true;
    auto data = std::make_shared<std::string>(std::move(out_.front()));
    out_.pop_front();
    // A client that stops reading is dropped after the read timeout, not kept for ever.
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(impl_.limits.readTimeoutSeconds));
    net::async_write(stream_, http::make_chunk(net::buffer(*data)), [self = this->shared_from_this(), data](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) {
        self->dropSink();
        self->close();
        return;
      }
      self->writeNext();
    });
  }

  void dropSink() {
    if (sink_) sink_->gone();
    sink_.reset();
    out_.clear();
  }

  // The request could not be read safely: answer once and close, so a confused framing
  // can never be read as a second request.
  void refuse(FramingRefusal r) { refuse(std::move(r.response), r.why); }

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
  std::optional<RequestFramer> framer_;  // the request being read
  bool pending_ = true;      // counted in impl_.peers as sending headers (admitted so)
  // A streamed answer (startStream): chunks waiting to be written, and its state.
  std::shared_ptr<Sink> sink_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool finishing_ = false;
  bool ended_ = false;
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

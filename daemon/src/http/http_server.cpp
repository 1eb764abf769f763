// The Beast server: one session object per connection, asynchronous reads and writes on
// two I/O threads, handlers on a separate pool.
#include "http/http_server.h"

#include <optional>
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
  net::io_context ioc{2};
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<net::ssl::context> tls;  // set when serving HTTPS
  net::thread_pool pool{4};
  std::vector<std::thread> threads;
  std::atomic<size_t> connections{0};
  std::atomic<bool> running{false};

  void accept();
};

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One connection. Stream is beast::tcp_stream (HTTP) or beast::ssl_stream over it (HTTPS).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  // The read buffer may hold a whole header block plus some body, so the parser's
  // header limit (431) is what stops an oversized header, not the buffer.
  Session(tcp::socket socket, HttpServer::Impl& impl)
      : stream_(makeStream(std::move(socket), impl)), impl_(impl), buffer_(impl.limits.maxHeaderBytes + 65536) {}
  ~Session() { --impl_.connections; }

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
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::seconds(served_ == 0 ? impl_.limits.readTimeoutSeconds : impl_.limits.idleTimeoutSeconds));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::onRead, this->shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == beast::error::timeout || ec == net::error::operation_aborted || ec == net::ssl::error::stream_truncated) {
      close();
      return;
    }
    if (ec) {
      // The request could not be read safely: answer once and close, so a confused
      // framing can never be read as a second request.
      HttpResponse r;
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        r = HttpResponse::error(431, "headers_too_large", "request headers exceed " + std::to_string(impl_.limits.maxHeaderBytes) + " bytes");
      } else if (ec == http::error::body_limit) {
        r = HttpResponse::error(413, "body_too_large", "request body exceeds " + std::to_string(impl_.limits.maxBodyBytes) + " bytes");
      } else {
        r = HttpResponse::error(400, "bad_request", "malformed HTTP request: " + ec.message());
      }
      impl_.log->info("refused request from {}: {}", peer(), ec.message());
      write(std::move(r), true);
      return;
    }
    auto& req = parser_->get();
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

  void write(HttpResponse r, bool closeAfter) {
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
      if (ec || !res->keep_alive()) {
        self->close();
        return;
      }
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keepAlive_ = false;
  int served_ = 0;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (!running) return;
    if (!ec) {
      if (connections.load() >= limits.maxConnections) {
        // Over the limit: a short, complete answer, then close; nothing is parsed.
        static const std::string kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
            "Content-Length: 74\r\n\r\n{\"error\":{\"code\":\"too_many_connections\",\"message\":\"try again shortly\"}}";
        beast::error_code wec;
        net::write(socket, net::buffer(kBusy.data(), kBusy.size()), wec);
        socket.close(wec);
      } else {
        ++connections;
        if (tls) {
          std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(std::move(socket), *this)->start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this)->start();
        }
      }
    }
    accept();
  });
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

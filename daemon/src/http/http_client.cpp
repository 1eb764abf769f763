#include "http/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace vigil::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

Result<HttpClient> HttpClient::create(const std::string& server, const std::string& caFile, std::chrono::seconds timeout) {
  HttpClient c;
  c.timeout_ = timeout;
  std::string rest;
  if (server.rfind("http://", 0) == 0) {
    rest = server.substr(7);
  } else if (server.rfind("https://", 0) == 0) {
    rest = server.substr(8);
    c.tls_ = true;
    c.caFile_ = caFile;
  } else {
    return Status::invalidArgument("--server must look like http://127.0.0.1:8470 or https://HOST:PORT");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  c.host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  c.port_ = colon == std::string::npos ? (c.tls_ ? "443" : "80") : rest.substr(colon + 1);
  if (c.host_.empty() || c.port_.empty()) return Status::invalidArgument("--server must look like http://127.0.0.1:8470");
  return c;
}

namespace {

// Beast's stream deadlines bind only asynchronous operations; these blocking reads and
// writes are bounded by the socket's own timeouts instead.
void boundSocket(net::ip::tcp::socket& s, std::chrono::seconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

template <class Stream>
ClientResponse exchange(Stream& stream, http::request<http::string_body>& req) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser);
  return ClientResponse{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

}  // namespace

Result<ClientResponse> HttpClient::send(const std::string& method, const std::string& target,
                                        const std::map<std::string, std::string>& headers, const std::string& body) const {
  try {
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "vigil-cli");
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    for (const auto& [k, v] : headers) req.set(k, v);
    req.prepare_payload();
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    auto endpoints = resolver.resolve(host_, port_);
    if (!tls_) {
      beast::tcp_stream stream(ioc);
      stream.connect(endpoints);
      boundSocket(stream.socket(), timeout_);
      ClientResponse r = exchange(stream, req);
      beast::error_code ec;
      stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
      return r;
    }
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_options(net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                    net::ssl::context::no_tlsv1_1);
    if (caFile_.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.load_verify_file(caFile_);
    }
    ctx.set_verify_mode(net::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    stream.set_verify_callback(net::ssl::host_name_verification(host_));
    SSL_set_tlsext_host_name(stream.native_handle(), host_.c_str());
    beast::get_lowest_layer(stream).connect(endpoints);
    boundSocket(beast::get_lowest_layer(stream).socket(), timeout_);
    stream.handshake(net::ssl::stream_base::client);
    ClientResponse r = exchange(stream, req);
    beast::error_code ec;
    stream.shutdown(ec);
    return r;
  } catch (const std::exception& e) {
    return Status::ioError("cannot reach " + host_ + ":" + port_ + ": " + e.what());
  }
}

}  // namespace vigil::daemon

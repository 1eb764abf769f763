#include "http/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace vigil::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

Result<HttpClient> HttpClient::create(const std::string& server) {
  const std::string scheme = "http://";
  if (server.rfind(scheme, 0) != 0) return Status::invalidArgument("--server must look like http://127.0.0.1:8470");
  std::string rest = server.substr(scheme.size());
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  size_t colon = rest.rfind(':');
  HttpClient c;
  c.host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  c.port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (c.host_.empty() || c.port_.empty()) return Status::invalidArgument("--server must look like http://127.0.0.1:8470");
  return c;
}

Result<ClientResponse> HttpClient::send(const std::string& method, const std::string& target,
                                        const std::map<std::string, std::string>& headers, const std::string& body) const {
  try {
    net::io_context ioc;
    net::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, host_);
    req.set(http::field::user_agent, "vigil-cli");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    return ClientResponse{static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    return Status::ioError("cannot reach the vigil server at " + host_ + ":" + port_ + ": " + e.what());
  }
}

}  // namespace vigil::daemon

// The daemon's view of one HTTP exchange, independent of the server library, so handlers
// are plain functions that tests can call directly.
#pragma once

#include <cctype>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace vigil::daemon {

// Percent-decodes a query component (`plusIsSpace`) or a path segment; malformed escapes
// are kept as written.
inline std::string percentDecode(std::string_view s, bool plusIsSpace) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto val = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plusIsSpace) {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
      out += static_cast<char>(val(s[i + 1]) * 16 + val(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct HttpRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::map<std::string, std::string> params;   // from the route pattern, e.g. {id}
  std::string body;
  std::string peer;  // the socket's address, never a header's

  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Where a streamed answer's body goes (server-sent events). Thread-safe; once closed, by
// the owner or because the client went away, whatever is sent is dropped.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void send(std::string chunk) = 0;
  virtual void close() = 0;
  virtual bool closed() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  // Set when the whole answer is not known when the handler returns (a start that waits for
  // its run): the server calls it once, off its handler threads being held, with `reply`;
  // reply(answer) may then be called once, from any thread. Status, body and headers above
  // are not used.
  std::function<void(std::function<void(HttpResponse)> reply)> later;
  // Set when the body comes over time: the status and headers are sent at once, then every
  // chunk the sink is given, until it is closed; the connection then closes.
  std::function<void(std::shared_ptr<StreamSink>)> stream;

  static HttpResponse json(int status, const nlohmann::json& j) {
    HttpResponse r;
    r.status = status;
    r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  }
  // {"error": {"code", "message", "field"}}: the one error shape of the API.
  static HttpResponse error(int status, const std::string& code, const std::string& message,
                            const std::string& field = "") {
    nlohmann::json e = {{"code", code}, {"message", message}};
    if (!field.empty()) e["field"] = field;
    return json(status, {{"error", e}});
  }
};

}  // namespace vigil::daemon

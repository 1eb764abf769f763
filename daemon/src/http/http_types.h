// The daemon's view of one HTTP exchange, independent of the server library, so handlers
// are plain functions that tests can call directly.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace vigil::daemon {

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

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;

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

#include "request.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "text.h"

namespace vigil::http {
namespace {

constexpr std::size_t kMaxUrlBytes = 8192;
constexpr std::size_t kMaxHeaders = 100;
constexpr long kMaxTimeoutMs = 24L * 3600 * 1000;

constexpr std::array<std::string_view, 5> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};

// Set by the connector itself or by libcurl from what it sends; a caller's copy would
// contradict ours (or smuggle a second request after a bad Content-Length).
constexpr std::array<std::string_view, 11> kReservedHeaders = {
    "host",    "content-length",  "transfer-encoding", "connection",        "expect",           "te",
    "upgrade", "idempotency-key", "x-vigil-purpose",   "x-vigil-signature", "x-vigil-timestamp"};

using Failure = std::optional<CallOutcome>;

struct Parser {
  std::string label;  // "http.get"
  Failure invalid(const std::string& what) const { return invalidRequest(label, what); }
};

// A query or form field value: strings as they are, numbers and booleans as JSON writes them.
std::optional<std::string> scalarText(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

// {name: value | [values]} -> "name=value&name=value2", encoded.
Failure encodePairs(const Parser& p, const char* param, const Json& v, bool form, std::vector<std::string>& out) {
  if (!v.is_object()) return p.invalid("'" + std::string(param) + "' must be an object");
  for (auto it = v.begin(); it != v.end(); ++it) {
    const Json values = it.value().is_array() ? it.value() : Json::array({it.value()});
    for (const auto& one : values) {
      auto text = scalarText(one);
      if (!text) {
        return p.invalid("'" + std::string(param) + "." + printable(it.key()) +
                         "' must be a string, number, boolean or an array of them");
      }
      out.push_back(percentEncode(it.key(), form) + "=" + percentEncode(*text, form));
    }
  }
  return std::nullopt;
}

Failure readHeaders(const Parser& p, const Json& v, HttpRequest& r) {
  if (!v.is_object()) return p.invalid("'headers' must be an object");
  if (v.size() > kMaxHeaders) return p.invalid("'headers' has more than " + std::to_string(kMaxHeaders) + " entries");
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string name = it.key();
    const std::string where = "'headers." + printable(name) + "'";
    if (!isHeaderName(name)) return p.invalid(where + " is not a valid header name");
    auto lower = toLower(name);
    if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) != kReservedHeaders.end()) {
      return p.invalid(where + " is set by the connector and cannot be given");
    }
    auto text = scalarText(it.value());
    if (!text) return p.invalid(where + " must be a string, number or boolean");
    // Refused, never cleaned up: a line break in a value is how a header gets injected.
    if (hasHeaderControl(*text) || !isValidUtf8(*text)) {
      return p.invalid(where + " holds a line break, control character or invalid UTF-8");
    }
    if (lower == "content-type") r.contentType.clear();
    r.headers.emplace_back(name, *text);
  }
  return std::nullopt;
}

Failure readAuth(const Parser& p, const Json& v, HttpRequest& r) {
  auto str = [&](const char* key) -> const std::string* {
    auto it = v.find(key);
    return it != v.end() && it->is_string() && !it->get_ref<const std::string&>().empty()
               ? &it->get_ref<const std::string&>()
               : nullptr;
  };
  if (!v.is_object()) return p.invalid("'auth' must be an object");
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() != "bearer_secret" && it.key() != "basic_user" && it.key() != "basic_password_secret") {
      return p.invalid("'auth' has no field '" + printable(it.key()) +
                       "' (it takes bearer_secret, or basic_user and basic_password_secret)");
    }
  }
  if (v.contains("bearer_secret")) {
    if (v.size() != 1 || str("bearer_secret") == nullptr) {
      return p.invalid("'auth.bearer_secret' must be a secret name, alone");
    }
    r.auth = Auth{Auth::Kind::kBearer, "", *str("bearer_secret")};
    return std::nullopt;
  }
  if (str("basic_user") == nullptr || str("basic_password_secret") == nullptr) {
    return p.invalid("'auth' needs bearer_secret, or basic_user and basic_password_secret (non-empty strings)");
  }
  // RFC 7617: the user-id ends at the first colon.
  if (str("basic_user")->find(':') != std::string::npos || hasHeaderControl(*str("basic_user"))) {
    return p.invalid("'auth.basic_user' must not contain ':' or control characters");
  }
  r.auth = Auth{Auth::Kind::kBasic, *str("basic_user"), *str("basic_password_secret")};
  return std::nullopt;
}

Failure readClientCert(const Parser& p, const Json& v, HttpRequest& r) {
  if (!v.is_object()) return p.invalid("'client_cert' must be an object {cert_file, key_file}");
  ClientCert cc;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.key() != "cert_file" && it.key() != "key_file") {
      return p.invalid("'client_cert' has no field '" + printable(it.key()) + "'");
    }
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().find('\0') != std::string::npos) {
      return p.invalid("'client_cert." + it.key() + "' must be a file path");
    }
    (it.key() == "cert_file" ? cc.certFile : cc.keyFile) = it->get<std::string>();
  }
  if (cc.certFile.empty()) return p.invalid("'client_cert.cert_file' is required");
  r.clientCert = std::move(cc);
  return std::nullopt;
}

Failure readBody(const Parser& p, const Json& in, HttpRequest& r) {
  bool json = in.contains("json");
  bool form = in.contains("form");
  if (json && form) return p.invalid("give 'json' or 'form', not both");
  if ((json || form) && r.method == "GET") return p.invalid("a GET request has no body ('json' or 'form')");
  if (json) {
    try {
      r.body = in.at("json").dump();
    } catch (const Json::exception&) {  // a string that is not UTF-8 cannot be written as JSON
      return p.invalid("'json' holds text that is not valid UTF-8");
    }
    r.contentType = "application/json";
  } else if (form) {
    std::vector<std::string> pairs;
    if (auto f = encodePairs(p, "form", in.at("form"), true, pairs)) return f;
    std::string body;
    for (const auto& pair : pairs) body += (body.empty() ? "" : "&") + pair;
    r.body = std::move(body);
    r.contentType = "application/x-www-form-urlencoded";
  }
  return std::nullopt;
}

Failure readOptions(const Parser& p, const Json& in, HttpRequest& r) {
  if (auto it = in.find("timeout_ms"); it != in.end()) {
    if (!it->is_number_integer() || it->get<long long>() < 1 || it->get<long long>() > kMaxTimeoutMs) {
      return p.invalid("'timeout_ms' must be an integer from 1 to " + std::to_string(kMaxTimeoutMs));
    }
    r.timeout = std::chrono::milliseconds(it->get<long long>());
  }
  if (auto it = in.find("accept_status"); it != in.end()) {
    if (!it->is_array()) return p.invalid("'accept_status' must be an array of status codes");
    for (const auto& s : *it) {
      if (!s.is_number_integer() || s.get<long long>() < 100 || s.get<long long>() > 599) {
        return p.invalid("'accept_status' must hold integers from 100 to 599");
      }
      r.acceptStatus.push_back(static_cast<long>(s.get<long long>()));
    }
  }
  return std::nullopt;
}

Failure readUrl(const Parser& p, const Json& in, HttpRequest& r) {
  auto it = in.find("url");
  if (it == in.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return p.invalid("'url' is required and must be a string");
  }
  const auto& url = it->get_ref<const std::string&>();
  if (url.size() > kMaxUrlBytes) return p.invalid("'url' is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  auto d = parseDestination(url);
  if (!d) return p.invalid("'url' is " + d.status().message());
  r.destination = std::move(d).value();
  if (auto q = in.find("query"); q != in.end()) {
    std::vector<std::string> pairs;
    if (auto f = encodePairs(p, "query", *q, false, pairs)) return f;
    for (const auto& pair : pairs) {
      if (!appendQuery(r.destination, pair)) return p.invalid("'query' cannot be added to 'url'");
    }
  }
  return std::nullopt;
}

std::vector<ParamSpec> commonParams() {
  return {
      {"url", "string", true, "absolute http:// or https:// URL; its host must be allowed by the outbound policy"},
      {"headers", "object", false, "extra request headers {name: value}"},
      {"query", "object", false, "query parameters {name: value | [values]}, URL-encoded and appended"},
      {"json", "any", false, "request body, sent as application/json"},
      {"form", "object", false, "request body {name: value}, sent as application/x-www-form-urlencoded"},
      {"auth", "object", false, "{bearer_secret: NAME} or {basic_user: USER, basic_password_secret: NAME}"},
      {"client_cert", "object", false, "TLS client certificate {cert_file, key_file} (PEM files)"},
      {"timeout_ms", "integer", false, "time limit for the whole call, redirects included"},
      {"accept_status", "array", false, "status codes treated as success besides 2xx"},
  };
}

}  // namespace

CallOutcome invalidRequest(const std::string& label, const std::string& what) {
  return CallOutcome::failure("invalid_request", label + ": " + what, false);
}

ActionSpec httpActionSpec(const std::string& action, const std::string& method) {
  ActionSpec a;
  a.name = action;
  a.params = commonParams();
  if (method.empty()) {
    a.description = "Sends an HTTP request with the given method";
    a.params.insert(a.params.begin(), {"method", "string", true, "GET, POST, PUT, PATCH or DELETE"});
    a.access = "disclosure";  // the method is known only at run time: assume the most telling
  } else {
    a.description = "Sends an HTTP " + method + " request";
    a.access = method == "GET" ? "consultation" : method == "DELETE" ? "alteration" : "disclosure";
  }
  a.outputs = {
      {"status", "integer", true, "the response's status code"},
      {"headers", "object", true, "response headers {lower-case name: value}"},
      {"json", "any", false, "the parsed body, when the response is JSON"},
      {"body", "string", false, "the body as text, when it is not JSON"},
      {"body_base64", "string", false, "the body in base64, when it is not UTF-8 text"},
  };
  return a;
}

std::variant<HttpRequest, CallOutcome> parseHttpRequest(const std::string& action, const std::string& method,
                                                        const Json& input) {
  Parser p{"http." + action};
  static const Json kNoParams = Json::object();
  const Json& in = input.is_null() ? kNoParams : input;
  if (!in.is_object()) return *p.invalid("the parameters must be an object");
  const auto spec = httpActionSpec(action, method);
  for (auto it = in.begin(); it != in.end(); ++it) {
    bool known =
        std::any_of(spec.params.begin(), spec.params.end(), [&](const ParamSpec& s) { return s.name == it.key(); });
    if (!known) return *p.invalid("there is no parameter '" + printable(it.key()) + "'");
  }
  HttpRequest r;
  r.method = method;
  if (method.empty()) {
    auto m = in.find("method");
    std::string upper = m != in.end() && m->is_string() ? m->get<std::string>() : "";
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
    if (std::find(kMethods.begin(), kMethods.end(), upper) == kMethods.end()) {
      return *p.invalid("'method' must be one of GET, POST, PUT, PATCH, DELETE");
    }
    r.method = upper;
  }
  for (auto* step : {readUrl, readBody, readOptions}) {
    if (auto f = step(p, in, r)) return *f;
  }
  // After the body: a Content-Type in `headers` overrides the body's.
  if (auto it = in.find("headers"); it != in.end()) {
    if (auto f = readHeaders(p, *it, r)) return *f;
  }
  if (auto it = in.find("auth"); it != in.end()) {
    if (auto f = readAuth(p, *it, r)) return *f;
    bool ownAuthorization = std::any_of(r.headers.begin(), r.headers.end(),
                                        [](const auto& h) { return toLower(h.first) == "authorization"; });
    if (ownAuthorization) return *p.invalid("give 'auth' or an Authorization header, not both");
  }
  if (auto it = in.find("client_cert"); it != in.end()) {
    if (auto f = readClientCert(p, *it, r)) return *f;
  }
  return r;
}

}  // namespace vigil::http

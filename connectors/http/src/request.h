// The parameters of the http.* actions: their declaration (ActionSpec) and their parsing
// into a request, checked before anything is sent. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "destination.h"
#include "transport.h"
#include "vigil/connector.h"

namespace vigil::http {

struct Auth {
  enum class Kind { kNone, kBearer, kBasic };
  Kind kind = Kind::kNone;
  std::string user;        // basic only
  std::string secretName;  // the token or password, looked up at send time
};

struct HttpRequest {
  std::string method;
  Destination destination;  // the query already appended; not yet checked against the policy
  std::vector<std::pair<std::string, std::string>> headers;  // the caller's
  std::optional<std::string> body;
  std::string contentType;  // of `body`, unless the caller's headers name one
  Auth auth;
  std::optional<ClientCert> clientCert;
  std::optional<std::chrono::milliseconds> timeout;
  std::vector<long> acceptStatus;
};

// `action` is "request", "get", ...; `method` empty for "request" (a parameter then).
ActionSpec httpActionSpec(const std::string& action, const std::string& method);

// The request, or an invalid_request failure naming the parameter at fault.
std::variant<HttpRequest, CallOutcome> parseHttpRequest(const std::string& action, const std::string& method,
                                                        const Json& input);

// invalid_request "<label>: <what>"; shared with webhook.send.
CallOutcome invalidRequest(const std::string& label, const std::string& what);

}  // namespace vigil::http

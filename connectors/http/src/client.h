// HttpClient: sends one logical request, following redirects under the outbound policy,
// within one time budget, and turns what happened into either a response to return or a
// CallOutcome failure (the codes of http_connector.h). Shared by the http and webhook
// connectors. Immutable after construction; send() is thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "destination.h"
#include "transport.h"
#include "vigil/connector.h"
#include "vigil/http_connector.h"

namespace vigil::http {

// What to send. Header lines are grouped by what happens to them on a redirect.
struct Exchange {
  std::string action;  // "http.get", "webhook.send": the prefix of every message
  std::string method;
  Destination destination;  // not yet checked: send() checks it
  std::optional<std::string> body;
  std::vector<std::string> ownHeaders;         // Idempotency-Key, purpose, signature: always sent
  std::vector<std::string> bodyHeaders;        // Content-Type: dropped when the body is
  std::vector<std::string> callerHeaders;      // the `headers` parameter: same origin only
  std::vector<std::string> credentialHeaders;  // Authorization: same origin only; wiped after
  std::optional<ClientCert> clientCert;        // same origin only
  std::chrono::milliseconds budget{0};         // for all hops together
  std::vector<long> acceptStatus;              // success besides 2xx

  Exchange() = default;
  Exchange(Exchange&&) = default;
  Exchange& operator=(Exchange&&) = default;
  ~Exchange();  // wipes credentialHeaders
};

struct Delivered {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

// The time a call may take: `requested` (else `fallback`), cut to what is left before the
// deadline. nullopt when the deadline has already passed.
std::optional<std::chrono::milliseconds> budgetFor(std::optional<std::chrono::milliseconds> requested,
                                                   std::chrono::milliseconds fallback,
                                                   const std::optional<TimePoint>& deadline);

// The delay a Retry-After value asks for: delta-seconds or an HTTP-date; nullopt when neither.
std::optional<std::chrono::milliseconds> parseRetryAfter(const std::string& value,
                                                         std::chrono::system_clock::time_point now);

class HttpClient {
 public:
  HttpClient(OutboundPolicy policy, int maxRedirects, Transport transport)
      : policy_(std::move(policy)), maxRedirects_(maxRedirects), transport_(std::move(transport)) {}

  // Ok when the policy admits `d`, else failedPrecondition naming the host. Connectors ask
  // before looking up secrets; send() asks again, and for every redirect target.
  Status admits(const Destination& d) const { return checkDestination(policy_, d); }

  // The final response when its status is 2xx or accepted; otherwise a failure.
  std::variant<Delivered, CallOutcome> send(Exchange exchange) const;

 private:
  OutboundPolicy policy_;
  int maxRedirects_;
  Transport transport_;
};

}  // namespace vigil::http

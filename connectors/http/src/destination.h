// Destination: a URL parsed once, by libcurl's own parser, and judged by the outbound policy.
//
// The parsed handle is what the transfer uses (CURLOPT_CURLU), so the host we check is the
// host libcurl connects to: no second parser to disagree with (decimal or hex IPv4, percent-
// encoded hosts and trailing dots are normalised before the check, not after it).
// Values are immutable once checked; functions are thread-safe.
#pragma once

#include <curl/curl.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "vigil/http_connector.h"
#include "vigil/status.h"

namespace vigil::http {

struct UrlCleanup {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlCleanup>;

struct Destination {
  UrlHandle url;
  std::string scheme;  // lower-case
  std::string host;    // lower-case, no IPv6 brackets, no trailing dot
  int port = 0;        // explicit, or the scheme's default
  bool hasCredentials = false;
  bool hasZone = false;  // an IPv6 zone ("%eth0")

  // "host:port" for messages: never the path or query, which may carry personal data.
  std::string label() const;
  // Same scheme, host and port: a redirect may keep credentials only within one origin.
  bool sameOrigin(const Destination& other) const;
};

// Parses an absolute URL of any scheme. invalidArgument (never quoting the URL) when it is
// not one.
Result<Destination> parseDestination(const std::string& url);

// Appends one already encoded "name=value" to the query.
Status appendQuery(Destination& d, const std::string& encodedPair);

// Ok, or failedPrecondition naming the host: see OutboundPolicy::check.
Status checkDestination(const OutboundPolicy& policy, const Destination& d);

// invalidArgument naming the first malformed entry of an allow list.
Status checkAllowList(const std::vector<std::string>& allow);

// A link-local or metadata address, whatever name led to it: checked again on the address
// each connection is about to use, so a listed name that resolves there is still refused.
bool isForbiddenAddress(const struct sockaddr* address);

}  // namespace vigil::http

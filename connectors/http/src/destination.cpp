#include "destination.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "text.h"

namespace vigil::http {
namespace {

// Well-known instance metadata services. Reaching them from a workflow hands out the host's
// cloud credentials, so no allow entry can open them.
constexpr std::array<std::string_view, 5> kMetadataNames = {"metadata.google.internal", "metadata.goog", "metadata",
                                                            "instance-data", "instance-data.ec2.internal"};

struct AllowEntry {
  std::string host;
  int port = 0;  // 0: any
};

struct CurlText {
  char* p = nullptr;
  ~CurlText() { curl_free(p); }
};

std::optional<std::string> part(CURLU* u, CURLUPart which, unsigned flags = 0) {
  CurlText t;
  if (curl_url_get(u, which, &t.p, flags) != CURLUE_OK || t.p == nullptr) return std::nullopt;
  return std::string(t.p);
}

// Lower case, brackets and one trailing dot removed, IPv6 in its canonical text form, so
// "LOCALHOST.", "[0:0::1]" and "::1" each compare equal to their allow entry.
std::string normalHost(std::string_view h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  std::string host = toLower(h);
  in6_addr a6{};
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1 && inet_ntop(AF_INET6, &a6, text, sizeof text) != nullptr) {
    return text;
  }
  return host;
}

bool forbiddenV4(const unsigned char* b) {
  return (b[0] == 169 && b[1] == 254) ||                                // link-local, AWS/Azure/GCP metadata
         (b[0] == 100 && b[1] == 100 && b[2] == 100 && b[3] == 200) ||  // Alibaba metadata
         (b[0] == 192 && b[1] == 0 && b[2] == 0 && b[3] == 192);        // Oracle metadata
}

bool forbiddenV6(const unsigned char* b) {
  static constexpr unsigned char kAwsV6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr unsigned char kNat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10
  if (std::memcmp(b, kAwsV6, 16) == 0) return true;
  // An IPv4 address in IPv6 clothing reaches the IPv4 address.
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) return forbiddenV4(b + 12);
  return false;
}

bool forbiddenHost(const std::string& host) {
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return forbiddenV4(reinterpret_cast<const unsigned char*>(&a4));
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return forbiddenV6(a6.s6_addr);
  return std::find(kMetadataNames.begin(), kMetadataNames.end(), host) != kMetadataNames.end();
}

std::optional<int> parsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

bool isHostText(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_' || c == ':';
  });
}

// "host", "host:port", "::1" (several colons: a bare IPv6 address) or "[v6]:port".
std::optional<AllowEntry> parseAllowEntry(std::string_view e) {
  AllowEntry out;
  std::string_view host = e;
  if (!e.empty() && e.front() == '[') {
    auto close = e.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = e.substr(1, close - 1);
    std::string_view rest = e.substr(close + 1);
    if (!rest.empty()) {
      auto port = rest.front() == ':' ? parsePort(rest.substr(1)) : std::nullopt;
      if (!port) return std::nullopt;
      out.port = *port;
    }
  } else if (std::count(e.begin(), e.end(), ':') == 1) {
    auto colon = e.find(':');
    auto port = parsePort(e.substr(colon + 1));
    if (!port) return std::nullopt;
    host = e.substr(0, colon);
    out.port = *port;
  }
  if (!isHostText(host)) return std::nullopt;
  out.host = normalHost(host);
  if (out.host.empty()) return std::nullopt;
  return out;
}

Status refused(const Destination& d, const std::string& why) {
  return Status::failedPrecondition("destination " + d.label() + " refused: " + why);
}

}  // namespace

std::string Destination::label() const {
  std::string h = printable(host.empty() ? "(no host)" : host);
  if (host.find(':') != std::string::npos) h = "[" + h + "]";
  return port > 0 ? h + ":" + std::to_string(port) : h;
}

bool Destination::sameOrigin(const Destination& other) const {
  return scheme == other.scheme && host == other.host && port == other.port;
}

Result<Destination> parseDestination(const std::string& url) {
  Destination d;
  d.url.reset(curl_url());
  if (d.url == nullptr) return Status::internal("out of memory");
  // Any scheme parses, so file:// and ftp:// are refused by the policy (destination_refused)
  // rather than reported as malformed.
  CURLUcode rc = curl_url_set(d.url.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (rc != CURLUE_OK) return Status::invalidArgument(std::string("not an absolute URL: ") + curl_url_strerror(rc));
  d.scheme = toLower(part(d.url.get(), CURLUPART_SCHEME).value_or(""));
  d.host = normalHost(part(d.url.get(), CURLUPART_HOST).value_or(""));
  d.port = std::atoi(part(d.url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("0").c_str());
  d.hasCredentials = part(d.url.get(), CURLUPART_USER).has_value() || part(d.url.get(), CURLUPART_PASSWORD).has_value();
  d.hasZone = part(d.url.get(), CURLUPART_ZONEID).has_value();
  return d;
}

Status appendQuery(Destination& d, const std::string& encodedPair) {
  CURLUcode rc = curl_url_set(d.url.get(), CURLUPART_QUERY, encodedPair.c_str(), CURLU_APPENDQUERY);
  return rc == CURLUE_OK ? Status::ok() : Status::invalidArgument(curl_url_strerror(rc));
}

Status checkDestination(const OutboundPolicy& policy, const Destination& d) {
  if (d.scheme != "http" && d.scheme != "https") {
    return refused(d, "scheme '" + printable(d.scheme) + "' is not http or https");
  }
  if (d.host.empty()) return refused(d, "the URL has no host");
  if (d.hasCredentials) return refused(d, "credentials in the URL are not allowed (use auth)");
  if (d.hasZone || forbiddenHost(d.host)) return refused(d, "link-local and metadata addresses are never allowed");
  for (const auto& entry : policy.allow) {
    auto e = parseAllowEntry(entry);
    if (e && e->host == d.host && (e->port == 0 || e->port == d.port)) return Status::ok();
  }
  return refused(d, "the host is not in the outbound allow list");
}

Status checkAllowList(const std::vector<std::string>& allow) {
  for (std::size_t i = 0; i < allow.size(); ++i) {
    if (!parseAllowEntry(allow[i])) {
      return Status::invalidArgument("outbound allow entry " + std::to_string(i) + " ('" + printable(allow[i]) +
                                     "') is not host, host:port or [v6]:port");
    }
  }
  return Status::ok();
}

bool isForbiddenAddress(const struct sockaddr* address) {
  if (address == nullptr) return true;
  if (address->sa_family == AF_INET) {
    in_addr a{};
    std::memcpy(&a, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, sizeof a);
    return forbiddenV4(reinterpret_cast<const unsigned char*>(&a));
  }
  if (address->sa_family == AF_INET6) {
    in6_addr a{};
    std::memcpy(&a, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, sizeof a);
    return forbiddenV6(a.s6_addr);
  }
  return true;  // UNIX sockets and the rest: never an HTTP destination of ours
}

}  // namespace vigil::http

namespace vigil {

Status OutboundPolicy::check(const std::string& url) const {
  if (auto s = http::checkAllowList(allow); !s) return s;
  auto d = http::parseDestination(url);
  if (!d) return d.status();
  return http::checkDestination(*this, *d);
}

}  // namespace vigil

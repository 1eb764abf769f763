#include "client.h"

#include <openssl/crypto.h>

#include <algorithm>

namespace vigil::http {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

CallOutcome fail(const Exchange& e, const std::string& code, const std::string& what, bool retryable) {
  return CallOutcome::failure(code, e.action + ": " + what, retryable);
}

// libcurl's own description of a code is static text: it never holds the URL or our data.
CallOutcome transferFailure(const Exchange& e, const Destination& d, const HopResponse& r, milliseconds budget) {
  const std::string where = d.label();
  if (r.addressRefused) {
    return fail(e, "destination_refused",
                "destination " + where + " refused: it resolves to a link-local or metadata address", false);
  }
  if (r.tooLarge) return fail(e, "response_too_large", where + " sent a response larger than the limit", false);
  if (r.code == CURLE_OPERATION_TIMEDOUT) {
    return fail(e, "timeout", where + " did not answer within " + std::to_string(budget.count()) + " ms", true);
  }
  if (curl::isTlsFailure(r.code)) {
    return fail(e, "tls_error", "TLS with " + where + " failed: " + curl_easy_strerror(r.code), false);
  }
  switch (r.code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return fail(e, "unreachable", "cannot reach " + where + ": " + curl_easy_strerror(r.code), true);
    default:
      return fail(e, "request_failed", "the request to " + where + " failed: " + curl_easy_strerror(r.code), false);
  }
}

CallOutcome statusFailure(const Exchange& e, const Destination& d, const HopResponse& r) {
  bool retryable = r.status == 429 || r.status >= 500;
  CallOutcome o =
      fail(e, "http_" + std::to_string(r.status), d.label() + " answered " + std::to_string(r.status), retryable);
  if (retryable) {
    auto it = r.headers.find("retry-after");
    if (it != r.headers.end()) o.retryAfter = parseRetryAfter(it->second, std::chrono::system_clock::now());
  }
  return o;
}

bool accepted(const Exchange& e, long status) {
  return (status >= 200 && status < 300) ||
         std::find(e.acceptStatus.begin(), e.acceptStatus.end(), status) != e.acceptStatus.end();
}

// Moves the exchange on to `next` as RFC 9110 and browsers do: 303 (and 301/302 after a
// POST) become a GET without a body; 307/308 repeat everything. Another origin gets no
// credentials or caller headers: they were meant for the first.
void redirect(Exchange& e, Destination next, long status) {
  bool toGet = (status == 303 && e.method != "GET") || ((status == 301 || status == 302) && e.method == "POST");
  if (toGet) {
    e.method = "GET";
    e.body.reset();
    e.bodyHeaders.clear();
  }
  if (!next.sameOrigin(e.destination)) {
    for (auto& h : e.credentialHeaders) OPENSSL_cleanse(h.data(), h.size());
    e.credentialHeaders.clear();
    e.callerHeaders.clear();
    e.clientCert.reset();
  }
  e.destination = std::move(next);
}

}  // namespace

Exchange::~Exchange() {
  for (auto& h : credentialHeaders) OPENSSL_cleanse(h.data(), h.size());
}

std::optional<milliseconds> budgetFor(std::optional<milliseconds> requested, milliseconds fallback,
                                      const std::optional<TimePoint>& deadline) {
  milliseconds budget = requested.value_or(fallback);
  if (deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(*deadline - std::chrono::system_clock::now());
    if (left <= milliseconds(0)) return std::nullopt;
    budget = std::min(budget, left);
  }
  return budget;
}

std::optional<milliseconds> parseRetryAfter(const std::string& value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;  // over 30 years: nonsense, and would overflow
    return milliseconds(std::stoll(value) * 1000);
  }
  time_t at = curl_getdate(value.c_str(), nullptr);  // RFC 9110 dates in all three forms
  if (at == -1) return std::nullopt;
  auto delay = std::chrono::system_clock::from_time_t(at) - now;
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(delay));
}

std::variant<Delivered, CallOutcome> HttpClient::send(Exchange e) const {
  const auto until = Clock::now() + e.budget;
  for (int hop = 0;; ++hop) {
    if (auto s = admits(e.destination); !s) {
      return fail(e, "destination_refused", s.message(), false);
    }
    auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
    if (left <= milliseconds(0)) {
      return fail(e, "timeout",
                  e.destination.label() + " did not answer within " + std::to_string(e.budget.count()) + " ms", true);
    }
    HopRequest req;
    req.method = e.method;
    req.destination = &e.destination;
    req.body = e.body ? &*e.body : nullptr;
    req.clientCert = e.clientCert ? &*e.clientCert : nullptr;
    req.timeout = left;
    for (const auto* group : {&e.ownHeaders, &e.bodyHeaders, &e.callerHeaders, &e.credentialHeaders}) {
      req.headerLines.insert(req.headerLines.end(), group->begin(), group->end());
    }
    HopResponse r = transport_.perform(req);
    for (auto& line : req.headerLines) OPENSSL_cleanse(line.data(), line.size());
    if (r.code != CURLE_OK || r.tooLarge || r.addressRefused) return transferFailure(e, e.destination, r, e.budget);
    if (accepted(e, r.status)) return Delivered{r.status, std::move(r.headers), std::move(r.body)};
    if (r.status < 300 || r.status >= 400 || r.redirectUrl.empty()) return statusFailure(e, e.destination, r);
    if (hop >= maxRedirects_) {
      return fail(e, "too_many_redirects",
                  e.destination.label() + " redirected more than " + std::to_string(maxRedirects_) + " times", false);
    }
    auto next = parseDestination(r.redirectUrl);
    if (!next) {
      return fail(e, "invalid_response", e.destination.label() + " redirected to something that is not a URL", false);
    }
    if (e.destination.scheme == "https" && next->scheme == "http") {
      return fail(e, "destination_refused", e.destination.label() + " redirected from https to plain http", false);
    }
    redirect(e, std::move(next).value(), r.status);
  }
}

}  // namespace vigil::http

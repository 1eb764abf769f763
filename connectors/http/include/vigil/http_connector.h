// The `http` and `webhook` connectors: outbound HTTP(S) calls through libcurl.
//
//   http.request  {method, url, headers?, query?, json? | form?, auth?, client_cert?,
//                  timeout_ms?, accept_status?}  -> {status, headers, json | body}
//   http.get / http.post / http.put / http.patch / http.delete   the same, without `method`
//   webhook.send  {url, json, secret}  -> {status}
//
// Every request carries `Idempotency-Key: <call.idempotencyKey>` (a call repeated after a crash
// sends the same key) and, when the call has a purpose, `X-Vigil-Purpose`. A webhook is a POST
// of the compact JSON body stamped with `X-Vigil-Timestamp` (Unix seconds) and signed with
// `X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, TIMESTAMP "\n" IDEMPOTENCY-KEY "\n" BODY)>`,
// the key as sent in its header (empty when the call has none): what vigil's own webhooks check.
//
// Output: `headers` maps lower-case names to values (repeated headers joined with ", ");
// `json` is the parsed body when the response's media type is application/json or *+json;
// otherwise `body` is the text, or `body_base64` when the body is not valid UTF-8.
//
// Redirects are followed by hand, up to maxRedirects, each target checked against the
// outbound policy again. 303 (and 301/302 after a POST) continue as a GET without a body;
// 307/308 repeat the method and body. A redirect to another origin drops `auth` and the
// caller's `headers`; a redirect from https to http is refused. A status listed in
// accept_status is returned as is, even a 3xx.
//
// Failures (CallOutcome codes; messages name parameters, hosts and status codes, never
// paths, queries, bodies, header values or secrets):
//   invalid_request      a parameter is missing, unknown, mistyped or malformed (named)  not retryable
//   destination_refused  the URL, a redirect target or the address it resolved to is
//                        refused by the outbound policy (host named)                  not retryable
//   secret_missing       a secret named in auth/secret is unknown (name, never value)   not retryable
//   secret_invalid       a secret's value cannot go in a header (line break, NUL)       not retryable
//   timeout              timeout_ms (else defaultTimeout), or the call's deadline if
//                        sooner, passed; one budget for all redirects                   retryable
//   unreachable          connection refused, name not resolved, connection broken       retryable
//   tls_error            certificate not trusted or handshake failed                    not retryable
//   response_too_large   the response passed maxResponseBytes (transfer aborted)       not retryable
//   invalid_response     the body is declared JSON but does not parse                   not retryable
//   too_many_redirects   more than maxRedirects redirects                               not retryable
//   http_<code>          429 and 5xx: retryable, with retryAfter from Retry-After
//                        (seconds or HTTP-date); other non-2xx: not retryable
//
// Environment proxies (http_proxy, ...) are ignored: the policy judges the real destination.
//
// Thread safety: the registered connectors are safe to call from many threads at once; each
// call uses its own libcurl handle and connection. Options are copied at registration.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "vigil/connector.h"
#include "vigil/status.h"

namespace vigil {

// Which hosts outbound calls may reach. Entries are "host" (any port), "host:port", a bare
// IPv6 address ("::1") or "[v6]:port"; hosts compare case-insensitively, without resolving
// anything (no DNS here). Default: loopback only.
struct OutboundPolicy {
  std::vector<std::string> allow = {"127.0.0.1", "localhost", "::1"};

  // Ok when `url` may be called. invalidArgument when it is not a URL (or its allow entry is
  // malformed); failedPrecondition when it is refused: a scheme other than http/https
  // (file://, ftp://, ...), credentials in the URL, a host not in `allow`, or a link-local
  // or cloud metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200,
  // metadata.google.internal, ...), which is refused even when listed. The message names
  // the host, never the path or query.
  Status check(const std::string& url) const;
};

struct HttpConnectorOptions {
  OutboundPolicy outbound;
  std::size_t maxResponseBytes = 10 * 1024 * 1024;  // headers and body of each response
  std::chrono::milliseconds defaultTimeout{30000};
  std::string caFile;    // extra CA bundle (PEM), trusted besides the system CAs; verification is always on
  SecretLookup secrets;  // for auth and webhook signing, looked up at each call
  int maxConcurrency = 16;
  int maxRedirects = 3;  // each redirect target is checked against `outbound` again
};

// Registers "http" and "webhook". Fails (invalidArgument, nothing registered) when an allow
// entry is malformed, maxResponseBytes or defaultTimeout is not positive, maxConcurrency is
// below 1, maxRedirects is negative, or caFile cannot be read or holds no certificate; fails
// with alreadyExists (nothing registered) when either name is taken, or internal when
// libcurl cannot start.
Status registerHttpConnectors(ConnectorRegistry& registry, const HttpConnectorOptions& options);

}  // namespace vigil

// The `email` connector: sends plain-text mail through one SMTP server (libcurl).
//
//   email.send  {to, cc?, reply_to?, subject + body | template + vars?}
//               -> {message_id, recipients}
//
// Every message is text/plain UTF-8, quoted-printable, with a Message-ID derived from the
// call's idempotency key (a call repeated after a crash carries the same Message-ID, so the
// receiving side can drop the duplicate) and an `X-Vigil-Idempotency-Key` header. Header
// values with line breaks are refused, never cleaned up, so a parameter cannot add headers.
//
// Failures (CallOutcome codes; messages name parameters, never addresses, subjects, bodies
// or secrets):
//   invalid_request    a parameter is missing, mistyped or malformed (named)    not retryable
//   recipient_refused  a recipient's domain is not in allowDomains              not retryable
//   secret_missing     the password secret is unknown (named)                   not retryable
//   unreachable        no connection, or it broke before the server answered    retryable
//   timeout            the call's deadline or `timeout` passed                  retryable
//   smtp_4xx           the server answered 4xx (try later)                      retryable
//   smtp_5xx           the server answered 5xx (refused, incl. a refused login) not retryable
//   tls_error          certificate not trusted, handshake failed, or STARTTLS
//                      required but not offered                                 not retryable
//
// Thread safety: the registered connector is safe to call from many threads at once; each
// call opens its own SMTP connection. The registry holds it; options are copied.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "vigil/connector.h"

namespace vigil {

// A named message. "{{name}}" in either part is replaced by vars.name (a string, number or
// boolean) at send time; "{{" without a closing "}}" is refused at registration.
struct EmailTemplate {
  std::string subject;
  std::string body;
};

struct EmailConnectorOptions {
  std::string host = "127.0.0.1";
  int port = 25;
  // kStartTls upgrades with STARTTLS and refuses to go on in plaintext when the server does
  // not offer it; kImplicit speaks TLS from the first byte (smtps, usually port 465).
  enum class Tls { kNone, kStartTls, kImplicit } tls = Tls::kStartTls;
  // Extra CA certificates (PEM) trusted for the server, in addition to the system ones.
  // Read once, at registration. Verification of the certificate and host name is always on.
  std::string caFile;
  std::string username;        // empty: no AUTH
  std::string passwordSecret;  // secret NAME, looked up through `secrets` at each send
  std::string from;            // envelope and header From: a bare address, user@example.org
  std::map<std::string, EmailTemplate> templates;
  // Empty: any recipient. Otherwise every To and Cc address's domain must be one of these
  // (compared case-insensitively, exact domain; a subdomain must be listed itself).
  std::vector<std::string> allowDomains;
  std::chrono::milliseconds timeout{30000};  // whole SMTP exchange; the call's deadline may cut it shorter
  SecretLookup secrets;
  int maxConcurrency = 4;
};

// Registers the connector as "email". Fails (invalidArgument, nothing registered) when the
// options cannot work: no or malformed `from`, bad host or port, a template with an unclosed
// "{{", an unreadable caFile or one without certificates, a username without passwordSecret,
// or AUTH in plaintext to a host other than loopback (the password would cross the network
// in clear). Fails with alreadyExists when "email" is taken.
Status registerEmailConnector(ConnectorRegistry& registry, const EmailConnectorOptions& options);

}  // namespace vigil

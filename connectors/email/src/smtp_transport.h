// SmtpTransport: one SMTP exchange per send over libcurl, and the mapping of what went
// wrong onto CallOutcome codes. Immutable after construction; send() is thread-safe (each
// call has its own curl handle and connection).
#pragma once

#include <chrono>
#include <string>

#include "message.h"
#include "vigil/connector.h"
#include "vigil/curl_common.h"
#include "vigil/status.h"

namespace vigil::email {

struct SmtpSettings {
  std::string url;              // "smtp://host:port" or "smtps://host:port"
  bool requireStartTls = false;  // STARTTLS or fail; never fall back to plaintext
  std::string caFile;           // extra CAs (PEM), "" for the system store only
  std::shared_ptr<const curl::CaBundle> cas;  // its certificates, read at registration
  std::string username;         // "" for no AUTH
};

class SmtpTransport {
 public:
  explicit SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)) {}

  // Delivers `message` from `from` within `budget`. Success has an empty output; a failure
  // carries one of the codes of email_connector.h and a message without addresses, server
  // text or secrets. `password` is used only when settings name a username.
  CallOutcome send(const std::string& from, const OutgoingMessage& message, const std::string& password,
                   std::chrono::milliseconds budget) const;

 private:
  SmtpSettings settings_;
};

}  // namespace vigil::email

// Message: the RFC 5322 text of one email.send and its SMTP envelope. Pure; thread-safe.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "send_request.h"

namespace vigil::email {

struct OutgoingMessage {
  std::string messageId;                // "<...>", as in the header
  std::vector<std::string> recipients;  // envelope: To then Cc, each address once
  std::string data;                     // headers, blank line, quoted-printable body; CRLF throughout
};

// `from` is a checked bare address; `now` fills the Date header. The Message-ID is a hash of
// a non-empty idempotencyKey (the same key gives the same id), else random.
OutgoingMessage composeMessage(const SendRequest& request, const std::string& from,
                               const std::string& idempotencyKey, std::time_t now);

}  // namespace vigil::email

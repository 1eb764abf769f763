// SendRequest: the parameters of one email.send call, checked. Parsing never contacts the
// server; every failure it returns names the parameter and never echoes a value.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "text_template.h"
#include "vigil/connector.h"

namespace vigil::email {

struct CompiledTemplate {
  TextTemplate subject;
  TextTemplate body;
};

struct SendRequest {
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::string replyTo;  // empty: no Reply-To
  std::string subject;  // valid UTF-8, no control characters
  std::string body;     // valid UTF-8
};

// What the connector's configuration allows a call to do.
struct SendPolicy {
  std::map<std::string, CompiledTemplate> templates;
  std::vector<std::string> allowDomains;  // lower-case; empty: any domain
};

// The checked request, or the CallOutcome to return: invalid_request (which parameter and
// why) or recipient_refused (which position, e.g. "cc[1]").
std::variant<SendRequest, CallOutcome> parseSendRequest(const Json& input, const SendPolicy& policy);

// The declaration of email.send, for `vigil validate` and the audit trail.
ActionSpec sendActionSpec();

}  // namespace vigil::email

#include "send_request.h"

#include <algorithm>
#include <array>
#include <optional>

#include "mime.h"

namespace vigil::email {
namespace {

constexpr std::size_t kMaxRecipients = 100;
constexpr std::size_t kMaxSubjectBytes = 1000;
constexpr std::size_t kMaxBodyBytes = 10 * 1024 * 1024;
constexpr std::size_t kMaxNameInMessage = 64;  // of a parameter or template name we echo

constexpr std::array<std::string_view, 7> kParams = {"to", "cc", "subject", "body", "template", "vars", "reply_to"};

CallOutcome invalid(const std::string& what) {
  return CallOutcome::failure("invalid_request", "email.send: " + what, false);
}

// Names chosen by the workflow author (parameter keys, template names) are not personal
// data, but they are untrusted text: shortened, and controls replaced, before we echo them.
std::string printable(std::string_view name) {
  std::string out(name.substr(0, kMaxNameInMessage));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return name.size() > kMaxNameInMessage ? out + "..." : out;
}

std::string position(const char* name, std::size_t i, bool single) {
  return single ? "'" + std::string(name) + "'" : "'" + std::string(name) + "[" + std::to_string(i) + "]'";
}

// Appends the addresses in `v` (an array of strings, or when `allowString` one string).
std::optional<CallOutcome> readAddresses(const Json& v, const char* name, bool allowString,
                                         std::vector<std::string>& out) {
  bool single = allowString && v.is_string();
  if (!single && !v.is_array()) {
    return invalid("'" + std::string(name) + "' must be " + (allowString ? "a string or " : "") + "an array of strings");
  }
  const Json list = single ? Json::array({v}) : v;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string() || !isAddress(list[i].get_ref<const std::string&>())) {
      return invalid(position(name, i, single) + " is not an email address (a bare user@domain)");
    }
    out.push_back(list[i].get<std::string>());
  }
  return std::nullopt;
}

std::optional<CallOutcome> checkText(const std::string& text, const std::string& what, bool header, std::size_t max) {
  if (text.size() > max) return invalid(what + " is longer than " + std::to_string(max) + " bytes");
  if (!isValidUtf8(text)) return invalid(what + " is not valid UTF-8");
  // Refused, not stripped: a line break in a header value is how headers get injected.
  if (header && hasHeaderControl(text)) return invalid(what + " must not contain line breaks or control characters");
  return std::nullopt;
}

std::optional<CallOutcome> checkDomains(const std::vector<std::string>& addrs, const char* name, bool single,
                                        const std::vector<std::string>& allow) {
  if (allow.empty()) return std::nullopt;
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    if (std::find(allow.begin(), allow.end(), domainOf(addrs[i])) == allow.end()) {
      return CallOutcome::failure("recipient_refused",
                                  "email.send: the domain of " + position(name, i, single) +
                                      " is not one of the allowed recipient domains",
                                  false);
    }
  }
  return std::nullopt;
}

std::optional<CallOutcome> fillFromTemplate(const Json& in, const SendPolicy& policy, SendRequest& r) {
  if (in.contains("subject") || in.contains("body")) {
    return invalid("give either 'template' or 'subject' and 'body', not both");
  }
  if (!in["template"].is_string()) return invalid("'template' must be a string");
  const auto& name = in["template"].get_ref<const std::string&>();
  auto t = policy.templates.find(name);
  if (t == policy.templates.end()) return invalid("'template' names no configured template ('" + printable(name) + "')");
  Json vars = Json::object();
  if (in.contains("vars")) {
    if (!in["vars"].is_object()) return invalid("'vars' must be an object");
    vars = in["vars"];
  }
  const std::string where = "template '" + printable(name) + "' ";
  auto subject = t->second.subject.render(vars);
  if (!subject) return invalid(where + subject.status().message() + " (in 'vars')");
  auto body = t->second.body.render(vars);
  if (!body) return invalid(where + body.status().message() + " (in 'vars')");
  r.subject = std::move(subject).value();
  r.body = std::move(body).value();
  if (auto e = checkText(r.subject, "the subject of " + where + "with 'vars' filled in", true, kMaxSubjectBytes)) return e;
  return checkText(r.body, "the body of " + where + "with 'vars' filled in", false, kMaxBodyBytes);
}

std::optional<CallOutcome> fillLiteral(const Json& in, SendRequest& r) {
  if (in.contains("vars")) return invalid("'vars' needs 'template'");
  for (const char* name : {"subject", "body"}) {
    if (!in.contains(name)) return invalid("'" + std::string(name) + "' is required (or use 'template')");
    if (!in[name].is_string()) return invalid("'" + std::string(name) + "' must be a string");
  }
  r.subject = in["subject"].get<std::string>();
  r.body = in["body"].get<std::string>();
  if (auto e = checkText(r.subject, "'subject'", true, kMaxSubjectBytes)) return e;
  return checkText(r.body, "'body'", false, kMaxBodyBytes);
}

}  // namespace

std::variant<SendRequest, CallOutcome> parseSendRequest(const Json& in, const SendPolicy& policy) {
  if (!in.is_object()) return invalid("parameters must be an object");
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (std::find(kParams.begin(), kParams.end(), it.key()) == kParams.end()) {
      return invalid("unknown parameter '" + printable(it.key()) + "'");
    }
  }
  SendRequest r;
  if (!in.contains("to")) return invalid("'to' is required");
  if (auto e = readAddresses(in["to"], "to", true, r.to)) return *e;
  if (r.to.empty()) return invalid("'to' needs at least one address");
  if (in.contains("cc")) {
    if (auto e = readAddresses(in["cc"], "cc", false, r.cc)) return *e;
  }
  if (r.to.size() + r.cc.size() > kMaxRecipients) {
    return invalid("'to' and 'cc' together name more than " + std::to_string(kMaxRecipients) + " recipients");
  }
  if (in.contains("reply_to")) {
    const Json& v = in["reply_to"];
    if (!v.is_string() || !isAddress(v.get_ref<const std::string&>())) {
      return invalid("'reply_to' is not an email address (a bare user@domain)");
    }
    r.replyTo = v.get<std::string>();
  }
  auto filled = in.contains("template") ? fillFromTemplate(in, policy, r) : fillLiteral(in, r);
  if (filled) return *filled;
  if (auto e = checkDomains(r.to, "to", in["to"].is_string(), policy.allowDomains)) return *e;
  if (auto e = checkDomains(r.cc, "cc", false, policy.allowDomains)) return *e;
  return r;
}

ActionSpec sendActionSpec() {
  ActionSpec a;
  a.name = "send";
  a.description = "Send a plain-text email through the configured SMTP server";
  a.access = "disclosure";
  a.params = {
      {"to", "any", true, "recipient address, or an array of addresses"},
      {"cc", "array", false, "addresses to copy"},
      {"subject", "string", false, "subject line (with body; or use template)"},
      {"body", "string", false, "plain-text body (with subject; or use template)"},
      {"template", "string", false, "name of a configured template, instead of subject and body"},
      {"vars", "object", false, "values for the template's {{placeholders}}"},
      {"reply_to", "string", false, "address for replies"},
  };
  a.outputs = {
      {"message_id", "string", true, "the Message-ID header, the same for a repeated call"},
      {"recipients", "integer", true, "number of distinct envelope recipients"},
  };
  return a;
}

}  // namespace vigil::email

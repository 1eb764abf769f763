#include "vigil/email_connector.h"

#include <openssl/crypto.h>


#include "message.h"
#include "mime.h"
#include "send_request.h"
#include "smtp_transport.h"

namespace vigil {
namespace {

using email::SendRequest;

class EmailConnector final : public Connector {
 public:
  EmailConnector(EmailConnectorOptions o, email::SendPolicy policy, email::SmtpSettings smtp)
      : options_(std::move(o)), policy_(std::move(policy)), transport_(std::move(smtp)) {}

  CallOutcome call(const ConnectorCall& c) override {
    // The promise of connector.h: nothing escapes, whatever a library below us throws.
    try {
      if (c.action != "send") {
        return CallOutcome::failure("unknown_action", "email connector has no action '" + c.action.substr(0, 64) + "'",
                                    false);
      }
      return send(c);
    } catch (...) {
      return CallOutcome::failure("internal", "email.send failed unexpectedly", false);
    }
  }

  std::vector<ActionSpec> actions() const override { return {email::sendActionSpec()}; }
  std::string description() const override { return "Sends plain-text email through an SMTP server"; }

  // A template named in the workflow must be configured: found when the workflow loads
  // (vigil validate --config, vigil serve), not when the first referral reaches the step.
  std::vector<std::string> checkStatic(const std::string& action, const Json& with) const override {
    if (action != "send" || !with.is_object() || !with.contains("template") || !with["template"].is_string()) return {};
    const std::string& name = with["template"].get_ref<const std::string&>();
    if (policy_.templates.count(name) != 0) return {};
    std::string known;
    for (const auto& [n, t] : policy_.templates) known += (known.empty() ? "" : ", ") + n;
    return {"template: no e-mail template '" + name + "' is configured (templates: " + (known.empty() ? "none" : known) + ")"};
  }

 private:
  CallOutcome send(const ConnectorCall& c) const {
    auto parsed = email::parseSendRequest(c.input, policy_);
    if (auto* failed = std::get_if<CallOutcome>(&parsed)) return *failed;
    const auto& request = std::get<SendRequest>(parsed);

    auto budget = options_.timeout;
    if (c.deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*c.deadline - std::chrono::system_clock::now());
      if (left <= std::chrono::milliseconds(0)) {
        return CallOutcome::failure("timeout", "email.send: the step's deadline passed before sending", true);
      }
      budget = std::min(budget, left);
    }

    std::string password;
    if (!options_.username.empty()) {
      auto secret = options_.secrets ? options_.secrets(options_.passwordSecret) : std::nullopt;
      if (!secret) {
        return CallOutcome::failure("secret_missing",
                                    "email.send: secret '" + options_.passwordSecret + "' (SMTP password) is not set",
                                    false);
      }
      password = std::move(*secret);
    }

    auto message = email::composeMessage(request, options_.from, c.idempotencyKey, std::time(nullptr));
    CallOutcome out = transport_.send(options_.from, message, password, budget);
    OPENSSL_cleanse(password.data(), password.size());  // our copy; libcurl frees its own
    if (!out.ok) return out;
    CallOutcome sent = CallOutcome::success(
        {{"message_id", message.messageId}, {"recipients", static_cast<int>(message.recipients.size())}});
    for (const auto& r : message.recipients) sent.recipient += (sent.recipient.empty() ? "" : ", ") + r;
    return sent;
  }

  const EmailConnectorOptions options_;
  const email::SendPolicy policy_;
  const email::SmtpTransport transport_;
};

bool isLoopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

bool isHostName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':';
    if (!ok) return false;
  }
  return true;
}

Status invalid(const std::string& what) { return Status::invalidArgument("email connector: " + what); }

Result<email::SendPolicy> buildPolicy(const EmailConnectorOptions& o) {
  email::SendPolicy policy;
  for (const auto& [name, t] : o.templates) {
    auto subject = email::TextTemplate::parse(t.subject);
    if (!subject) return invalid("the subject of template '" + name + "' " + subject.status().message());
    auto body = email::TextTemplate::parse(t.body);
    if (!body) return invalid("the body of template '" + name + "' " + body.status().message());
    policy.templates.emplace(name, email::CompiledTemplate{std::move(subject).value(), std::move(body).value()});
  }
  for (const auto& d : o.allowDomains) {
    if (!email::isAddress("x@" + d)) return invalid("allowDomains has an entry that is not a domain name");
    policy.allowDomains.push_back(email::toLower(d));
  }
  return policy;
}

Result<email::SmtpSettings> buildSmtpSettings(const EmailConnectorOptions& o) {
  using Tls = EmailConnectorOptions::Tls;
  if (!isHostName(o.host)) return invalid("host must be a host name or IP address");
  if (o.port < 1 || o.port > 65535) return invalid("port must be 1..65535");
  if (!o.username.empty() && o.passwordSecret.empty()) return invalid("a username needs passwordSecret");
  if (email::hasHeaderControl(o.username)) return invalid("username must not contain control characters");
  // AUTH PLAIN/LOGIN send the password as is: only over TLS, or without leaving the host.
  if (!o.username.empty() && o.tls == Tls::kNone && !isLoopback(o.host)) {
    return invalid("AUTH without TLS would send the password in clear; use tls starttls or implicit");
  }
  email::SmtpSettings s;
  bool ipv6 = o.host.find(':') != std::string::npos;
  s.url = std::string(o.tls == Tls::kImplicit ? "smtps://" : "smtp://") + (ipv6 ? "[" + o.host + "]" : o.host) + ":" +
          std::to_string(o.port);
  s.requireStartTls = o.tls == Tls::kStartTls;
  s.username = o.username;
  if (!o.caFile.empty()) {
    auto cas = curl::CaBundle::load(o.caFile);
    if (!cas) return invalid(cas.status().message());
    s.caFile = o.caFile;
    s.cas = std::move(cas).value();
  }
  return s;
}

}  // namespace

Status registerEmailConnector(ConnectorRegistry& registry, const EmailConnectorOptions& options) {
  if (!email::isAddress(options.from)) return invalid("from must be a bare address (user@example.org)");
  if (options.timeout <= std::chrono::milliseconds(0)) return invalid("timeout must be positive");
  auto policy = buildPolicy(options);
  if (!policy) return policy.status();
  auto smtp = buildSmtpSettings(options);
  if (!smtp) return smtp.status();
  if (auto s = curl::init(); !s) return Status::internal("email: " + s.message());
  return registry.add("email",
                      std::make_shared<EmailConnector>(options, std::move(policy).value(), std::move(smtp).value()),
                      options.maxConcurrency);
}

}  // namespace vigil

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>

#include "connectors.h"
#include "request.h"
#include "text.h"

namespace vigil::http {
namespace {

constexpr const char* kLabel = "webhook.send";

// HMAC-SHA256 of `message` under `key`, in lower-case hex: what the receiver recomputes with
// its copy of the secret to know the delivery came from us, unchanged.
std::optional<std::string> sign(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), mac, &len) == nullptr) {
    return std::nullopt;
  }
  return hex(std::string_view(reinterpret_cast<const char*>(mac), len));
}

class WebhookConnector final : public Connector {
 public:
  explicit WebhookConnector(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {}

  CallOutcome call(const ConnectorCall& c) override {
    try {
      if (c.action != "send") {
        return CallOutcome::failure("unknown_action", "webhook connector has no action '" + printable(c.action) + "'",
                                    false);
      }
      return send(c);
    } catch (...) {
      return CallOutcome::failure("internal", "webhook.send failed unexpectedly", false);
    }
  }

  std::vector<ActionSpec> actions() const override {
    ActionSpec a;
    a.name = "send";
    a.description = "POSTs a JSON body signed with HMAC-SHA256 (X-Vigil-Signature) to a URL";
    a.params = {
        {"url", "string", true, "absolute http:// or https:// URL; its host must be allowed by the outbound policy"},
        {"json", "any", true, "the body, sent as compact JSON"},
        {"secret", "string", true, "NAME of the secret that signs the body"},
    };
    a.outputs = {{"status", "integer", true, "the response's status code"}};
    a.access = "disclosure";
    return {a};
  }

  std::string description() const override { return "Sends signed JSON webhooks"; }

 private:
  CallOutcome send(const ConnectorCall& c) const {
    const Json& in = c.input;
    if (!in.is_object()) return invalidRequest(kLabel, "the parameters must be an object");
    for (auto it = in.begin(); it != in.end(); ++it) {
      if (it.key() != "url" && it.key() != "json" && it.key() != "secret") {
        return invalidRequest(kLabel, "there is no parameter '" + printable(it.key()) + "'");
      }
    }
    auto url = in.find("url");
    if (url == in.end() || !url->is_string()) return invalidRequest(kLabel, "'url' is required and must be a string");
    if (!in.contains("json")) return invalidRequest(kLabel, "'json' is required");
    auto secretName = in.find("secret");
    if (secretName == in.end() || !secretName->is_string() || secretName->get_ref<const std::string&>().empty()) {
      return invalidRequest(kLabel, "'secret' is required and must be a secret name");
    }
    auto destination = parseDestination(url->get<std::string>());
    if (!destination) return invalidRequest(kLabel, "'url' is " + destination.status().message());
    if (auto refused = refusal(*shared_, kLabel, *destination)) return *refused;
    std::string body;
    try {
      body = in.at("json").dump();
    } catch (const Json::exception&) {
      return invalidRequest(kLabel, "'json' holds text that is not valid UTF-8");
    }

    auto budget = budgetFor(std::nullopt, shared_->options.defaultTimeout, c.deadline);
    if (!budget) return deadlinePassed(kLabel);

    const std::string& name = secretName->get_ref<const std::string&>();
    auto secret = lookupSecret(*shared_, name);
    if (!secret)
      return CallOutcome::failure("secret_missing",
                                  std::string(kLabel) + ": secret '" + printable(name) + "' is not set", false);
    // The signature covers the time and the Idempotency-Key as sent, not only the body, so a
    // receiver can refuse a captured delivery replayed later or under another key (vigil's
    // own webhooks do: docs/API.md).
    const std::string stamp = std::to_string(std::time(nullptr));
    const std::string key = c.idempotencyKey.empty() ? std::string() : headerSafe(c.idempotencyKey);
    auto signature = sign(*secret, stamp + "\n" + key + "\n" + body);
    OPENSSL_cleanse(secret->data(), secret->size());
    if (!signature) return CallOutcome::failure("internal", std::string(kLabel) + ": signing failed", false);

    Exchange e;
    e.action = kLabel;
    e.method = "POST";
    e.destination = std::move(destination).value();
    e.ownHeaders = standardHeaders(c);
    e.ownHeaders.push_back("X-Vigil-Signature: sha256=" + *signature);
    e.ownHeaders.push_back("X-Vigil-Timestamp: " + stamp);
    e.bodyHeaders = {"Content-Type: application/json"};
    e.body = std::move(body);
    e.budget = *budget;
    const std::string recipient = e.destination.scheme + "://" + e.destination.label();
    auto sent = shared_->client.send(std::move(e));
    if (auto* failed = std::get_if<CallOutcome>(&sent)) return *failed;
    CallOutcome o = CallOutcome::success({{"status", std::get<Delivered>(sent).status}});
    o.recipient = recipient;
    return o;
  }

  std::shared_ptr<const Shared> shared_;
};

}  // namespace

std::shared_ptr<Connector> makeWebhookConnector(std::shared_ptr<const Shared> shared) {
  return std::make_shared<WebhookConnector>(std::move(shared));
}

}  // namespace vigil::http

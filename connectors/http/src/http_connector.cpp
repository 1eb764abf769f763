#include "vigil/http_connector.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "connectors.h"
#include "request.h"
#include "text.h"

namespace vigil::http {
namespace {

struct ActionMethod {
  std::string_view action;
  std::string_view method;  // empty: from the `method` parameter
};
constexpr std::array<ActionMethod, 6> kActions = {
    {{"request", ""}, {"get", "GET"}, {"post", "POST"}, {"put", "PUT"}, {"patch", "PATCH"}, {"delete", "DELETE"}}};

bool isJsonMediaType(const std::string& contentType) {
  std::string type = toLower(contentType.substr(0, contentType.find(';')));
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  return type == "application/json" ||
         (type.rfind("application/", 0) == 0 && type.size() > 17 && type.compare(type.size() - 5, 5, "+json") == 0);
}

class HttpConnector final : public Connector {
 public:
  explicit HttpConnector(std::shared_ptr<const Shared> shared) : shared_(std::move(shared)) {}

  CallOutcome call(const ConnectorCall& c) override {
    // The promise of connector.h: nothing escapes, whatever a library below us throws.
    try {
      auto a =
          std::find_if(kActions.begin(), kActions.end(), [&](const ActionMethod& x) { return x.action == c.action; });
      if (a == kActions.end()) {
        return CallOutcome::failure("unknown_action", "http connector has no action '" + printable(c.action) + "'",
                                    false);
      }
      return run(c, std::string(a->method));
    } catch (...) {
      return CallOutcome::failure("internal", "http." + printable(c.action) + " failed unexpectedly", false);
    }
  }

  std::vector<ActionSpec> actions() const override {
    std::vector<ActionSpec> out;
    for (const auto& a : kActions) out.push_back(httpActionSpec(std::string(a.action), std::string(a.method)));
    return out;
  }

  std::string description() const override { return "Calls HTTP(S) APIs on hosts allowed by the outbound policy"; }

  // A URL written into the workflow is checked when the workflow loads, not first at a call.
  std::vector<std::string> checkStatic(const std::string&, const Json& with) const override {
    if (!with.is_object() || !with.contains("url") || !with["url"].is_string()) return {};
    Status s = shared_->options.outbound.check(with["url"].get<std::string>());
    if (s) return {};
    return {"url: " + s.message()};
  }

 private:
  CallOutcome run(const ConnectorCall& c, const std::string& method) const {
    const std::string label = "http." + c.action;
    auto parsed = parseHttpRequest(c.action, method, c.input);
    if (auto* failed = std::get_if<CallOutcome>(&parsed)) return *failed;
    auto& r = std::get<HttpRequest>(parsed);
    if (auto refused = refusal(*shared_, label, r.destination)) return *refused;

    auto budget = budgetFor(r.timeout, shared_->options.defaultTimeout, c.deadline);
    if (!budget) return deadlinePassed(label);

    Exchange e;
    e.action = label;
    e.method = r.method;
    e.destination = std::move(r.destination);
    e.body = std::move(r.body);
    e.ownHeaders = standardHeaders(c);
    bool callerType = false;
    for (const auto& [name, value] : r.headers) {
      // libcurl reads "Name:" as "remove Name"; "Name;" is how it sends an empty value.
      e.callerHeaders.push_back(value.empty() ? name + ";" : name + ": " + value);
      callerType = callerType || toLower(name) == "content-type";
    }
    if (!r.contentType.empty()) {
      e.bodyHeaders.push_back("Content-Type: " + r.contentType);
    } else if (!callerType) {
      e.bodyHeaders.push_back("Content-Type:");  // libcurl would claim a form for any POST
    }
    if (auto failed = addCredentials(label, r.auth, e)) return *failed;
    e.clientCert = std::move(r.clientCert);
    e.budget = *budget;
    e.acceptStatus = std::move(r.acceptStatus);

    const std::string recipient = e.destination.scheme + "://" + e.destination.label();
    auto sent = shared_->client.send(std::move(e));
    if (auto* failed = std::get_if<CallOutcome>(&sent)) return *failed;
    CallOutcome o = output(label, std::get<Delivered>(sent));
    o.recipient = recipient;
    return o;
  }

  std::optional<CallOutcome> addCredentials(const std::string& label, const Auth& auth, Exchange& e) const {
    if (auth.kind == Auth::Kind::kNone) return std::nullopt;
    auto secret = lookupSecret(*shared_, auth.secretName);
    if (!secret) {
      return CallOutcome::failure("secret_missing", label + ": secret '" + printable(auth.secretName) + "' is not set",
                                  false);
    }
    std::string line;
    if (auth.kind == Auth::Kind::kBearer) {
      if (hasHeaderControl(*secret)) {
        OPENSSL_cleanse(secret->data(), secret->size());
        return CallOutcome::failure(
            "secret_invalid",
            label + ": secret '" + printable(auth.secretName) + "' holds a line break or control character", false);
      }
      line = "Authorization: Bearer " + *secret;
    } else {
      std::string pair = auth.user + ":" + *secret;
      line = "Authorization: Basic " + base64(pair);
      OPENSSL_cleanse(pair.data(), pair.size());
    }
    OPENSSL_cleanse(secret->data(), secret->size());
    e.credentialHeaders.push_back(std::move(line));
    return std::nullopt;
  }

  static CallOutcome output(const std::string& label, const Delivered& d) {
    Json out = {{"status", d.status}, {"headers", Json(d.headers)}};
    auto type = d.headers.find("content-type");
    if (type != d.headers.end() && isJsonMediaType(type->second)) {
      if (d.body.empty()) {
        out["json"] = nullptr;
        return CallOutcome::success(std::move(out));
      }
      Json parsed = Json::parse(d.body, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        return CallOutcome::failure("invalid_response", label + ": the response is declared JSON but does not parse",
                                    false);
      }
      out["json"] = std::move(parsed);
    } else if (isValidUtf8(d.body)) {
      out["body"] = d.body;
    } else {
      out["body_base64"] = base64(d.body);
    }
    return CallOutcome::success(std::move(out));
  }

  std::shared_ptr<const Shared> shared_;
};

}  // namespace

std::vector<std::string> standardHeaders(const ConnectorCall& c) {
  std::vector<std::string> out = {"Expect:"};
  if (!c.idempotencyKey.empty()) out.push_back("Idempotency-Key: " + headerSafe(c.idempotencyKey));
  if (!c.purpose.empty()) out.push_back("X-Vigil-Purpose: " + headerSafe(c.purpose));
  return out;
}

std::optional<std::string> lookupSecret(const Shared& shared, const std::string& name) {
  if (!shared.options.secrets) return std::nullopt;
  return shared.options.secrets(name);
}

std::optional<CallOutcome> refusal(const Shared& shared, const std::string& label, const Destination& d) {
  auto s = shared.client.admits(d);
  if (s) return std::nullopt;
  return CallOutcome::failure("destination_refused", label + ": " + s.message(), false);
}

CallOutcome deadlinePassed(const std::string& label) {
  return CallOutcome::failure("timeout", label + ": the step's deadline passed before sending", true);
}

std::shared_ptr<Connector> makeHttpConnector(std::shared_ptr<const Shared> shared) {
  return std::make_shared<HttpConnector>(std::move(shared));
}

}  // namespace vigil::http

namespace vigil {

Status registerHttpConnectors(ConnectorRegistry& registry, const HttpConnectorOptions& options) {
  auto invalid = [](const std::string& what) { return Status::invalidArgument("http connector: " + what); };
  if (auto s = http::checkAllowList(options.outbound.allow); !s) return invalid(s.message());
  if (options.maxResponseBytes == 0) return invalid("maxResponseBytes must be positive");
  if (options.defaultTimeout <= std::chrono::milliseconds(0)) return invalid("defaultTimeout must be positive");
  if (options.maxConcurrency < 1) return invalid("maxConcurrency must be at least 1");
  if (options.maxRedirects < 0) return invalid("maxRedirects must not be negative");
  std::shared_ptr<const curl::CaBundle> cas;
  if (!options.caFile.empty()) {
    auto loaded = curl::CaBundle::load(options.caFile);
    if (!loaded) return Status::invalidArgument("http connector: " + loaded.status().message());
    cas = std::move(loaded).value();
  }
  if (auto s = curl::init(); !s) return Status::internal("http connector: " + s.message());
  for (const char* name : {"http", "webhook"}) {
    if (registry.find(name) != nullptr) {
      return Status::alreadyExists(std::string("connector '") + name + "' is already registered");
    }
  }
  auto shared = std::make_shared<const http::Shared>(http::Shared{
      options,
      http::HttpClient(options.outbound, options.maxRedirects, http::Transport(options.maxResponseBytes, cas))});
  if (auto s = registry.add("http", http::makeHttpConnector(shared), options.maxConcurrency); !s) return s;
  return registry.add("webhook", http::makeWebhookConnector(shared), options.maxConcurrency);
}

}  // namespace vigil

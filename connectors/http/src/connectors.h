// What the http and webhook connectors share: the client that sends, the options they were
// registered with, and the headers every request carries. Internal to this library.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client.h"
#include "vigil/connector.h"
#include "vigil/http_connector.h"

namespace vigil::http {

struct Shared {
  HttpConnectorOptions options;
  HttpClient client;
};

// Idempotency-Key, X-Vigil-Purpose when the call has one, and no "Expect: 100-continue"
// (a round trip for nothing; some servers never answer it).
std::vector<std::string> standardHeaders(const ConnectorCall& call);

// A secret by name, or nullopt when unknown or when no lookup was configured.
std::optional<std::string> lookupSecret(const Shared& shared, const std::string& name);

// destination_refused when the policy does not admit `d`.
std::optional<CallOutcome> refusal(const Shared& shared, const std::string& label, const Destination& d);

// The outcome a budget that ran out before the first byte gets.
CallOutcome deadlinePassed(const std::string& label);

std::shared_ptr<Connector> makeHttpConnector(std::shared_ptr<const Shared> shared);
std::shared_ptr<Connector> makeWebhookConnector(std::shared_ptr<const Shared> shared);

}  // namespace vigil::http

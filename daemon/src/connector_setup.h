// Builds the daemon's connectors from its configuration: http and webhook (to the outbound
// allow-list only), the REST connectors declared in `connectors.dirs`, email when
// configured, then each connector's configured limits.
#pragma once

#include "config.h"
#include "secret_store.h"
#include "vigil/connector.h"

namespace vigil::daemon {

Status setupConnectors(const ConnectorConfig& config, const SecretStore& secrets, ConnectorRegistry& registry);

}  // namespace vigil::daemon

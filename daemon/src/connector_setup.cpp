#include "connector_setup.h"

#include "vigil/email_connector.h"
#include "vigil/http_connector.h"
#include "vigil/native_plugin.h"
#include "vigil/rest_connector.h"

namespace vigil::daemon {

Status setupConnectors(const ConnectorConfig& config, const SecretStore& secrets, ConnectorRegistry& registry) {
  HttpConnectorOptions http;
  http.outbound.allow = config.outbound;
  http.caFile = config.caFile;
  http.secrets = secrets.lookup();
  if (Status s = registerHttpConnectors(registry, http); !s) return Status::invalidArgument("connectors: " + s.message());
  if (Status s = registerRestConnectors(registry, config.dirs); !s) return Status::invalidArgument("connectors.dirs: " + s.message());
  if (!config.nativePlugins.empty()) {
    if (Status s = registerNativePlugins(registry, config.nativePlugins); !s) {
      return Status::invalidArgument("connectors.native_plugins: " + s.message());
    }
  }
  if (config.email) {
    EmailConnectorOptions e;
    e.host = config.emailHost;
    e.port = config.emailPort;
    e.tls = config.emailTls == "none"       ? EmailConnectorOptions::Tls::kNone
            : config.emailTls == "implicit" ? EmailConnectorOptions::Tls::kImplicit
                                            : EmailConnectorOptions::Tls::kStartTls;
    e.caFile = config.emailCaFile;
    e.username = config.emailUsername;
    e.passwordSecret = config.emailPasswordSecret;
    e.from = config.emailFrom;
    e.allowDomains = config.emailAllowDomains;
    for (const auto& [name, t] : config.emailTemplates) e.templates[name] = EmailTemplate{t.first, t.second};
    e.secrets = secrets.lookup();
    if (Status s = registerEmailConnector(registry, e); !s) return Status::invalidArgument("connectors.email: " + s.message());
  }
  for (const auto& [name, lim] : config.limits) {
    if (Status s = registry.setLimits(name, lim.maxConcurrency, lim.maxPerSecond); !s) {
      return Status::invalidArgument("connectors.limits: " + s.message());
    }
  }
  return Status::ok();
}

}  // namespace vigil::daemon

// Secrets for connectors: a YAML file of NAME: value, readable only by the daemon's user,
// and VIGIL_SECRET_<NAME> environment variables (which win). Values are never logged; a
// lookup names a secret, and only connectors see what it holds. Thread-safe (immutable).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "vigil/connector.h"
#include "vigil/status.h"

namespace vigil::daemon {

class SecretStore {
 public:
  // An empty path: environment variables only. Refuses a file that group or others may
  // read, and names that are not [A-Z][A-Z0-9_]*.
  static Result<SecretStore> load(const std::string& path);
  std::optional<std::string> get(const std::string& name) const;
  SecretLookup lookup() const;
  size_t size() const { return values_.size(); }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace vigil::daemon

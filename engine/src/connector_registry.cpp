#include "vigil/connector.h"

namespace vigil {

Status ConnectorRegistry::add(const std::string& name, std::shared_ptr<Connector> connector, int maxConcurrency) {
  if (connector == nullptr || maxConcurrency < 1) {
    return Status::invalidArgument("connector '" + name + "' needs an implementation and a limit of at least 1");
  }
  std::lock_guard lock(mu_);
  if (!entries_.emplace(name, Entry{std::move(connector), maxConcurrency}).second) {
    return Status::alreadyExists("connector '" + name + "' is already registered");
  }
  return Status::ok();
}

std::shared_ptr<Connector> ConnectorRegistry::find(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.connector;
}

int ConnectorRegistry::maxConcurrency(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? 1 : it->second.maxConcurrency;
}

}  // namespace vigil

// GET /api/v1/connectors: each configured connector with its actions, their parameters and
// outputs and what a call does with personal data; and its limits.
#include "api/resources.h"

namespace vigil::daemon {
namespace {

nlohmann::json params(const std::vector<ParamSpec>& ps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : ps) {
    out.push_back({{"name", p.name}, {"type", p.type}, {"required", p.required}, {"description", p.description}});
  }
  return out;
}

}  // namespace

HttpResponse OpsResource::listConnectors(HttpRequest&, Call&) {
  nlohmann::json items = nlohmann::json::array();
  if (ctx_.connectors != nullptr) {
    for (const auto& name : ctx_.connectors->names()) {
      auto c = ctx_.connectors->find(name);
      if (c == nullptr) continue;
      nlohmann::json actions = nlohmann::json::array();
      for (const auto& a : c->actions()) {
        actions.push_back({{"name", a.name},
                           {"description", a.description},
                           {"access", a.access},
                           {"params", params(a.params)},
                           {"open_params", a.openParams},
                           {"outputs", params(a.outputs)}});
      }
      const double rate = ctx_.connectors->maxPerSecond(name);
      items.push_back({{"name", name},
                       {"description", c->description()},
                       {"max_concurrency", ctx_.connectors->maxConcurrency(name)},
                       {"max_per_second", rate > 0 ? nlohmann::json(rate) : nlohmann::json()},
                       {"actions", actions}});
    }
  }
  return HttpResponse::json(200, {{"items", items}});
}

}  // namespace vigil::daemon

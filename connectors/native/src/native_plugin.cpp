// Native plugins over the C ABI (see plugin_abi.h). The library stays loaded for the
// connector's lifetime; every answer is parsed and checked before it is trusted.
#include "vigil/native_plugin.h"

#include <algorithm>
#include <filesystem>

#include <boost/dll/shared_library.hpp>

#include "vigil/plugin_abi.h"

namespace vigil {
namespace {

std::vector<ParamSpec> paramsOf(const Json& list) {
  std::vector<ParamSpec> out;
  if (!list.is_array()) return out;
  for (const auto& p : list) {
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) continue;
    out.push_back(ParamSpec{p["name"].get<std::string>(), p.value("type", "any"), p.value("required", false), p.value("description", "")});
  }
  return out;
}

class NativePlugin final : public Connector {
 public:
  NativePlugin(boost::dll::shared_library lib, std::string file, std::string description, std::vector<ActionSpec> actions)
      : lib_(std::move(lib)), file_(std::move(file)), description_(std::move(description)), actions_(std::move(actions)) {
    call_ = lib_.get<char*(const char*)>("vigil_plugin_call");
    free_ = lib_.get<void(char*)>("vigil_plugin_free");
  }

  std::vector<ActionSpec> actions() const override { return actions_; }
  std::string description() const override { return description_; }

  CallOutcome call(const ConnectorCall& c) override {
    Json request = {{"action", c.action}, {"input", c.input}, {"idempotency_key", c.idempotencyKey}, {"purpose", c.purpose}};
    if (c.deadline) request["deadline_ms"] = c.deadline->time_since_epoch().count();
    const std::string text = request.dump(-1, ' ', false, Json::error_handler_t::replace);
    char* raw = call_(text.c_str());
    if (raw == nullptr) return CallOutcome::failure("plugin_protocol", "plugin " + file_ + " returned nothing", false);
    Json answer = Json::parse(raw, nullptr, false);
    free_(raw);
    if (!answer.is_object() || !answer.contains("ok") || !answer["ok"].is_boolean()) {
      return CallOutcome::failure("plugin_protocol", "plugin " + file_ + " answered something that is not a result", false);
    }
    if (answer["ok"].get<bool>()) return CallOutcome::success(answer.value("output", Json()));
    return CallOutcome::failure(answer.value("code", "plugin_error"), answer.value("message", "the plugin reported an error"),
                                answer.value("retryable", false));
  }

 private:
  boost::dll::shared_library lib_;
  std::string file_;
  std::string description_;
  std::vector<ActionSpec> actions_;
  char* (*call_)(const char*) = nullptr;
  void (*free_)(char*) = nullptr;
};

}  // namespace

Status registerNativePlugin(ConnectorRegistry& registry, const std::string& path, int maxConcurrency) {
  const std::string file = std::filesystem::path(path).filename().string();
  boost::dll::shared_library lib;
  boost::system::error_code ec;
  lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) return Status::invalidArgument("plugin " + path + " cannot be loaded: " + ec.message());
  for (const char* symbol : {"vigil_plugin_abi_version", "vigil_plugin_describe", "vigil_plugin_call", "vigil_plugin_free"}) {
    if (!lib.has(symbol)) return Status::invalidArgument("plugin " + path + " does not export " + symbol + " (see vigil/plugin_abi.h)");
  }
  const uint32_t version = lib.get<uint32_t()>("vigil_plugin_abi_version")();
  if (version != VIGIL_PLUGIN_ABI_VERSION) {
    return Status::invalidArgument("plugin " + path + " was built for plugin ABI version " + std::to_string(version) +
                                   "; this vigil speaks version " + std::to_string(VIGIL_PLUGIN_ABI_VERSION));
  }
  const char* describe = lib.get<const char*()>("vigil_plugin_describe")();
  Json d = describe == nullptr ? Json() : Json::parse(describe, nullptr, false);
  if (!d.is_object() || !d.contains("name") || !d["name"].is_string() || !d.contains("actions") || !d["actions"].is_array()) {
    return Status::invalidArgument("plugin " + path + ": vigil_plugin_describe must return {\"name\", \"actions\": [...]}");
  }
  std::vector<ActionSpec> actions;
  for (const auto& a : d["actions"]) {
    if (!a.is_object() || !a.contains("name") || !a["name"].is_string()) {
      return Status::invalidArgument("plugin " + path + ": every action needs a name");
    }
    ActionSpec spec;
    spec.name = a["name"].get<std::string>();
    spec.description = a.value("description", "");
    spec.access = a.value("access", "consultation");
    spec.params = paramsOf(a.value("params", Json()));
    spec.outputs = paramsOf(a.value("outputs", Json()));
    actions.push_back(std::move(spec));
  }
  auto plugin = std::make_shared<NativePlugin>(std::move(lib), file, d.value("description", ""), std::move(actions));
  return registry.add(d["name"].get<std::string>(), std::move(plugin), maxConcurrency);
}

Status registerNativePlugins(ConnectorRegistry& registry, const std::string& dir, std::vector<std::string>* loaded) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".so") files.push_back(it->path().string());
  }
  if (ec) return Status::invalidArgument("plugin folder " + dir + " cannot be read");
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    if (Status s = registerNativePlugin(registry, f); !s) return s;
    if (loaded != nullptr) loaded->push_back(f);
  }
  return Status::ok();
}

}  // namespace vigil

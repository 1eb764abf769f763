// Fuzzes REST connector definitions (connectors/rest/: the YAML files an admin declares a
// force system in) through registerRestConnectors, the daemon's entry point: the size
// limit, the hardened YAML check, every key with its position, then registration. A
// definition that registers is called, once per action, with a value of its declared type
// for every parameter and once with none, through a stand-in `http` connector that answers
// at once (nothing leaves the process): so the path, query and body templates are filled
// and the outputs and `match:` mapped from an answer, as in a run.
//
// The loader reads a folder, so the input is written to one file in a per-process scratch
// directory and reused.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "vigil/connector.h"
#include "vigil/rest_connector.h"

namespace {

using vigil::Json;

// The http connector's place: answers every request with the same response, which has
// the fields REST outputs usually name (found, count, items) and echoes the request.
class AnsweringHttp final : public vigil::Connector {
 public:
  vigil::CallOutcome call(const vigil::ConnectorCall& c) override {
    vigil::fuzz::require(c.action == "request", "REST calls go through http.request");
    vigil::fuzz::require(c.input.is_object() && c.input.contains("url") && c.input.contains("method"),
                         "a request has a method and a URL");
    Json body = {{"found", true}, {"count", 1}, {"items", Json::array({{{"id", "P-1"}, {"name", "Test Person"}}})},
                 {"person", {{"id", "P-1"}, {"markers", Json::array({"violence"})}}}, {"request", c.input}};
    return vigil::CallOutcome::success(
        {{"status", 200}, {"headers", {{"content-type", "application/json"}}}, {"json", body}, {"body", body.dump()}});
  }
};

Json valueOf(const std::string& type) {
  if (type == "integer") return 7;
  if (type == "number") return 2.5;
  if (type == "boolean") return true;
  if (type == "object") return Json::object({{"k", "v"}});
  if (type == "array") return Json::array({"a", "b"});
  return "x/y z?&=1";  // string and any: characters a path or query must encode
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    std::string d = vigil::fuzz::scratchDir() + "/connectors";
    std::filesystem::create_directory(d);
    return d;
  }();
  vigil::fuzz::writeFile(dir + "/connector.yaml", std::string_view(reinterpret_cast<const char*>(data), size), 0644);

  vigil::ConnectorRegistry registry;
  vigil::fuzz::require(registry.add("http", std::make_shared<AnsweringHttp>()).isOk(), "http registers");
  std::vector<std::string> loaded;
  const vigil::Status s = vigil::registerRestConnectors(registry, {dir}, &loaded);
  if (!s) {
    vigil::fuzz::require(loaded.empty(), "nothing registers from a file with errors");
    return 0;
  }
  vigil::fuzz::require(loaded.size() == 1, "one connector per file");
  auto connector = registry.find(loaded.front());
  vigil::fuzz::require(connector != nullptr, "the connector is registered under its name");
  for (const auto& action : connector->actions()) {
    vigil::ConnectorCall call;
    call.action = action.name;
    call.idempotencyKey = "run-1/step/1";
    call.purpose = "fuzzing";
    (void)connector->call(call);
    Json input = Json::object();
    for (const auto& p : action.params) input[p.name] = valueOf(p.type);
    call.input = input;
    (void)connector->call(call);
  }
  return 0;
}

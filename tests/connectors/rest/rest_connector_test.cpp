// REST connectors declared in YAML, against the real loopback test server through the real
// http connector: the request is built as declared, responses are mapped, bad calls and
// bad definitions are refused with their place.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../http/test_server.h"
#include "vigil/http_connector.h"
#include "vigil/rest_connector.h"

using namespace vigil;
namespace fs = std::filesystem;

namespace {

struct Folder {
  Folder() {
    static int n = 0;
    path = fs::temp_directory_path() / ("vigil-rest-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
  fs::path path;
};

ConnectorCall callOf(const std::string& action, Json input) {
  ConnectorCall c;
  c.runId = "r-1";
  c.step = "lookup";
  c.attempt = 1;
  c.action = action;
  c.input = std::move(input);
  c.idempotencyKey = "r-1/lookup/1";
  c.purpose = "safeguarding research";
  return c;
}

std::string rmsDefinition(const std::string& baseUrl) {
  return "connector: rms\n"
         "description: Records management system (synthetic)\n"
         "base_url: " + baseUrl + "\n"
         "auth: { bearer_secret: RMS_TOKEN }\n"
         "timeout: 5s\n"
         "max_per_second: 20\n"
         "actions:\n"
         "  person_records:\n"
         "    method: GET\n"
         "    path: /echo/people/{person_id}/records\n"
         "    params:\n"
         "      person_id: { type: string, required: true }\n"
         "      since: { type: string }\n"
         "    query: { since: \"{since}\", fixed: yes }\n"
         "    outputs: { seen_path: json.path, seen_query: json.query, auth: json.headers.authorization }\n"
         "  record_outcome:\n"
         "    method: POST\n"
         "    path: /echo/outcomes\n"
         "    params:\n"
         "      ref: { type: string, required: true }\n"
         "      band: { type: string }\n"
         "      count: { type: integer }\n"
         "    body: { referral: \"{ref}\", rating: \"{band}\", note: \"band {band} for {ref}\", n: \"{count}\" }\n";
}

}  // namespace

TEST_CASE("a REST connector from YAML builds its requests and maps its responses", "[rest]") {
  auto& server = vigil::test::TestServer::get();
  Folder dir;
  dir.write("rms.yaml", rmsDefinition(server.url("")));
  ConnectorRegistry registry;
  HttpConnectorOptions http;
  http.secrets = [](const std::string& n) -> std::optional<std::string> {
    if (n == "RMS_TOKEN") return std::string("rms-token-123456");
    return std::nullopt;
  };
  REQUIRE(registerHttpConnectors(registry, http).isOk());
  std::vector<std::string> loaded;
  REQUIRE(registerRestConnectors(registry, {dir.path.string()}, &loaded).isOk());
  CHECK(loaded == std::vector<std::string>{"rms"});
  CHECK(registry.maxPerSecond("rms") == 20);
  auto rms = registry.find("rms");
  REQUIRE(rms != nullptr);
  REQUIRE(rms->actions().size() == 2);

  CallOutcome got = rms->call(callOf("person_records", {{"person_id", "P 1/2"}, {"since", "2026-01-01"}}));
  INFO(got.code << " " << got.message);
  REQUIRE(got.ok);
  CHECK(got.output["status"] == 200);
  CHECK(got.output["seen_path"] == "/echo/people/P%201%2F2/records");
  CHECK(got.output["seen_query"] == Json({{"fixed", {"yes"}}, {"since", {"2026-01-01"}}}));
  CHECK(got.output["auth"] == "Bearer rms-token-123456");

  CallOutcome noSince = rms->call(callOf("person_records", {{"person_id", "P1"}}));
  REQUIRE(noSince.ok);
  CHECK(noSince.output["seen_query"] == Json({{"fixed", {"yes"}}}));  // an absent param leaves its query out

  CallOutcome posted = rms->call(callOf("record_outcome", {{"ref", "REF-1"}, {"band", "RED"}, {"count", 3}}));
  REQUIRE(posted.ok);
  Json body = Json::parse(posted.output["json"]["body"].get<std::string>());
  CHECK(body == Json({{"referral", "REF-1"}, {"rating", "RED"}, {"note", "band RED for REF-1"}, {"n", 3}}));
  CHECK(posted.output["json"]["method"] == "POST");
  CHECK(posted.output["json"]["headers"]["idempotency-key"] == "r-1/lookup/1");

  CHECK(rms->call(callOf("person_records", Json::object())).message == "rms.person_records needs parameter 'person_id'");
  CHECK(rms->call(callOf("person_records", {{"person_id", "P1"}, {"nope", 1}})).message ==
        "rms.person_records has no parameter 'nope'");
  CHECK(rms->call(callOf("record_outcome", {{"ref", "R"}, {"count", "three"}})).message ==
        "parameter 'count' must be of type integer");
  CHECK(rms->call(callOf("delete_everything", Json::object())).code == "invalid_request");
}

TEST_CASE("a lookup that finds nobody or several is a distinct outcome, and an answer that does not say is an error", "[rest]") {
  auto& server = vigil::test::TestServer::get();
  Folder dir;
  dir.write("pnd.yaml", "connector: pnd\nbase_url: " + server.url("") +
                            "\nactions:\n  person_search:\n    path: /answer\n"
                            "    params: { found: { type: string }, count: { type: string } }\n"
                            "    query: { found: \"{found}\", count: \"{count}\" }\n"
                            "    outputs: { found: json.found, count: json.count }\n"
                            "    match: { found: found, count: count }\n");
  ConnectorRegistry registry;
  REQUIRE(registerHttpConnectors(registry, HttpConnectorOptions{}).isOk());
  REQUIRE(registerRestConnectors(registry, {dir.path.string()}, nullptr).isOk());
  auto pnd = registry.find("pnd");
  REQUIRE(pnd != nullptr);
  auto match = [&](Json input) {
    CallOutcome o = pnd->call(callOf("person_search", std::move(input)));
    INFO(o.code << " " << o.message);
    return o.ok ? o.output["match"] : Json(o.code);
  };
  CHECK(match({{"found", "true"}, {"count", "1"}}) == "found");
  CHECK(match({{"found", "false"}}) == "not_found");
  CHECK(match({{"found", "true"}, {"count", "3"}}) == "ambiguous");
  CHECK(match({{"found", "absent"}}) == "invalid_response");  // not silently "nobody"
  bool declared = false;
  for (const auto& a : pnd->actions()) {
    for (const auto& o : a.outputs) declared = declared || o.name == "match";
  }
  CHECK(declared);
}

TEST_CASE("a REST connector reaches only what the outbound policy allows", "[rest]") {
  Folder dir;
  dir.write("meta.yaml", "connector: meta\nbase_url: http://169.254.169.254/latest\nactions:\n  creds: { path: /meta-data }\n");
  ConnectorRegistry registry;
  REQUIRE(registerHttpConnectors(registry, HttpConnectorOptions{}).isOk());
  REQUIRE(registerRestConnectors(registry, {dir.path.string()}).isOk());
  CallOutcome o = registry.find("meta")->call(callOf("creds", Json::object()));
  CHECK_FALSE(o.ok);
  CHECK(o.code == "destination_refused");
}

TEST_CASE("bad REST definitions are refused with file, line and key", "[rest]") {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"connector: x\nbase_url: http://127.0.0.1\nactions:\n  a: { path: /a, colour: red }\n",
       "x.yaml:4:18: error: unknown key 'colour' in action 'a' (known: access, body, description, match, method, outputs, params, path, query)"},
      {"connector: x\nactions:\n  a: { path: /a }\n", "x.yaml:1:1: error: the connector needs 'base_url'"},
      {"connector: x\nbase_url: ftp://127.0.0.1\nactions:\n  a: { path: /a }\n",
       "x.yaml:2:11: error: 'base_url' must start with http:// or https://"},
      {"connector: x\nbase_url: http://127.0.0.1\nactions:\n  a: { path: \"/p/{id}\" }\n",
       "x.yaml:4:14: error: 'path' names '{id}', which is not one of the action's params"},
      {"connector: x\nbase_url: http://127.0.0.1\nactions:\n  a: { path: /a, method: GET, body: { x: 1 } }\n",
       "x.yaml:4:37: error: action 'a': a GET request has no body"},
      {"connector: x\nbase_url: http://127.0.0.1\nactions:\n  a: { path: /a, method: FETCH }\n",
       "x.yaml:4:26: error: 'method' of action 'a' must be GET, POST, PUT, PATCH or DELETE"},
      // A key written twice is refused, not one of the two kept: an action, or its path.
      {"connector: x\nbase_url: http://127.0.0.1\nactions:\n  a: { path: /a }\n  a: { path: /b }\n",
       "x.yaml:5:3: error: duplicate key 'a' (first at line 4)"},
      {"connector: x\nbase_url: http://127.0.0.1\nactions:\n  a: { path: /a, path: /b }\n",
       "x.yaml:4:18: error: duplicate key 'path' (first at line 4)"},
      {"connector: x\nbase_url: http://127.0.0.1\nbase_url: http://127.0.0.2\nactions:\n  a: { path: /a }\n",
       "x.yaml:3:1: error: duplicate key 'base_url' (first at line 2)"},
  };
  for (const auto& c : cases) {
    Folder dir;
    dir.write("x.yaml", c.yaml);
    ConnectorRegistry registry;
    Status s = registerRestConnectors(registry, {dir.path.string()});
    std::string msg = s.message();
    auto at = msg.find("x.yaml");
    CHECK(msg.substr(at == std::string::npos ? 0 : at) == c.message);
    CHECK(registry.names().empty());
  }
}

TEST_CASE("a REST definition with six mistakes reports all six with their lines and columns", "[rest]") {
  Folder dir;
  dir.write("x.yaml",
            "connector: X\n"
            "base_url: ftp://127.0.0.1\n"
            "timeout: forever\n"
            "actions:\n"
            "  a: { path: /a, colour: red }\n"
            "  b: { path: \"/p/{id}\", method: FETCH }\n");
  ConnectorRegistry registry;
  Status s = registerRestConnectors(registry, {dir.path.string()});
  const std::string f = (dir.path / "x.yaml").string();
  CHECK(s.message() ==
        f + ":1:12: error: 'connector' must be a lower-case name\n" +
        f + ":2:11: error: 'base_url' must start with http:// or https://\n" +
        f + ":3:10: error: 'timeout' must be a duration up to 10m, such as 10s\n" +
        f + ":5:18: error: unknown key 'colour' in action 'a' (known: access, body, description, match, method, outputs, params, path, query)\n" +
        f + ":6:14: error: 'path' names '{id}', which is not one of the action's params\n" +
        f + ":6:33: error: 'method' of action 'b' must be GET, POST, PUT, PATCH or DELETE");
  CHECK(registry.names().empty());
}

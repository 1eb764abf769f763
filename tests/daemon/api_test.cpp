// The API's routes against docs/openapi.yaml, and every route against every role: the
// authorisation matrix in daemon/src/auth/roles.cpp, exercised in-process; and a signed
// webhook delivery's timestamp judged by the injected clock.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include <openssl/hmac.h>
#include <yaml-cpp/yaml.h>

#include "api/api.h"
#include "vigil/loader.h"
#include "vigil/merkle.h"

using namespace vigil;
using namespace vigil::daemon;
namespace fs = std::filesystem;

namespace {

std::string concrete(std::string pattern) {
  for (size_t open; (open = pattern.find('{')) != std::string::npos;) {
    pattern.replace(open, pattern.find('}') - open + 1, "x-1");
  }
  return pattern;
}

}  // namespace

TEST_CASE("every route is in docs/openapi.yaml and every documented route exists", "[daemon][api]") {
  // The spec is the project's own file, not input: yaml-cpp's plain loader is fine here.
  YAML::Node spec = YAML::LoadFile(std::string(VIGIL_SOURCE_DIR) + "/docs/openapi.yaml");
  std::map<std::string, std::string> documented;  // "GET /path" -> permission
  for (const auto& path : spec["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented[method + " " + path.first.as<std::string>()] = op.second["x-vigil-permission"].as<std::string>("");
    }
  }
  std::map<std::string, std::string> served;
  ApiContext none;  // the routes are fixed at construction; no handler runs here
  Api api(none);
  for (const auto& r : api.routes()) {
    if (r.pattern == "/" || r.pattern.rfind("/ui/", 0) == 0 || r.pattern.rfind("/assets/", 0) == 0) continue;  // the UI's files
    served[r.method + " " + r.pattern] = r.isPublic ? "public" : r.permission ? permissionName(*r.permission) : "authenticated";
  }
  CHECK(documented == served);
}

TEST_CASE("each route answers 401 without a valid token and 403 to roles without the permission", "[daemon][auth]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-api-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  {
    auto store = std::shared_ptr<Store>(std::move(openSqliteStore(dir.string())).value());
    auto users = std::move(UserStore::open(dir.string())).value();
    EngineOptions o;
    o.store = store;
    o.clock = systemClock();
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.timerThread = false;
    auto engine = std::move(Engine::create(o)).value();
    const char* yaml = "workflow: w\nversion: 1\nowner: o\nsteps:\n  - { id: s, set: { x: 1 } }\n";
    auto wf = loadWorkflow(yaml, "w.yaml");
    REQUIRE(wf.ok());
    WorkflowCatalog catalog(*engine, o.connectors.get(), nullptr, nullptr);
    REQUIRE(catalog.publish({{wf.workflow, yaml}}, WorkflowCatalog::Origin::kFolder).front().ok());
    REQUIRE(engine->start().isOk());
    ApiContext c;
    c.engine = engine.get();
    c.catalog = &catalog;
    c.store = store.get();
    c.users = users.get();
    c.clock = o.clock;
    c.log = std::make_shared<spdlog::logger>("test");
    Api api(c);

    std::map<std::string, std::string> tokens;
    for (const auto& role : roleNames()) tokens[role] = *users->addUser("user-" + role, {role});
    std::string revoked = *users->addUser("gone", {"author", "operator", "approver", "auditor"});
    auto list = users->list();
    for (const auto& u : *list) {
      if (u.name == "gone") REQUIRE(users->revokeToken(u.activeTokenIds.at(0)).isOk());
    }

    auto call = [&](const Route& r, const std::string& token) {
      HttpRequest req;
      req.method = r.method;
      req.path = concrete(r.pattern);
      req.target = req.path;
      if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
      req.headers["x-vigil-purpose"] = "authorisation test";
      req.body = "{}";
      return api.handle(req).status;
    };
    for (const auto& r : api.routes()) {
      INFO(r.method << " " << r.pattern);
      if (r.isPublic) {
        const int status = call(r, "");
        CHECK(status != 401);
        CHECK(status != 403);
        CHECK(status < 500);
        continue;
      }
      CHECK(call(r, "") == 401);
      CHECK(call(r, revoked) == 401);
      CHECK(call(r, "vgl_" + std::string(48, 'a')) == 401);
      for (const auto& [role, token] : tokens) {
        INFO("role " << role);
        int status = call(r, token);
        bool may = !r.permission || allowed({role}, *r.permission);
        if (may) {
          CHECK(status != 401);
          CHECK(status != 403);
        } else {
          CHECK(status == 403);
        }
      }
    }
    engine->stop();
  }
  fs::remove_all(dir);
}

TEST_CASE("a signed delivery's timestamp is judged by the injected clock, within the configured window", "[daemon][api][webhook]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-api-clock-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  {
    // The daemon's clock says 1 January 2001: only deliveries signed then are on time.
    const long long then = 978307200;
    auto clock = std::make_shared<ManualClock>(TimePoint(std::chrono::seconds(then)));
    auto store = std::shared_ptr<Store>(std::move(openSqliteStore(dir.string())).value());
    auto users = std::move(UserStore::open(dir.string())).value();
    EngineOptions o;
    o.store = store;
    o.clock = clock;
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.timerThread = false;
    auto engine = std::move(Engine::create(o)).value();
    const char* yaml =
        "workflow: intake\nversion: 1\nowner: o\ninputs: { referral_id: string }\n"
        "triggers:\n  - webhook: /referrals/intake\nsteps:\n  - { id: s, set: { x: 1 } }\n";
    auto wf = loadWorkflow(yaml, "intake.yaml");
    REQUIRE(wf.ok());
    WorkflowCatalog catalog(*engine, o.connectors.get(), nullptr, nullptr);
    REQUIRE(catalog.publish({{wf.workflow, yaml}}, WorkflowCatalog::Origin::kFolder).front().ok());
    REQUIRE(engine->start().isOk());
    ApiContext c;
    c.engine = engine.get();
    c.catalog = &catalog;
    c.store = store.get();
    c.users = users.get();
    c.clock = clock;
    c.log = std::make_shared<spdlog::logger>("test");
    const std::string secret = "a-secret-of-some-length";
    c.webhookSecrets["/referrals/intake"] = secret;
    c.webhookWindow = std::chrono::seconds(90);
    Api api(c);

    auto deliver = [&](long long stamp, const std::string& key) {
      HttpRequest req;
      req.method = "POST";
      req.path = "/api/v1/hooks/referrals/intake";
      req.target = req.path;
      req.body = R"({"referral_id": "R-1"})";
      const std::string message = std::to_string(stamp) + "\n" + key + "\n" + req.body;
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), mac, &len);
      req.headers["idempotency-key"] = key;
      req.headers["x-vigil-timestamp"] = std::to_string(stamp);
      req.headers["x-vigil-signature"] = "sha256=" + merkle::bytesToHex(std::string_view(reinterpret_cast<const char*>(mac), len));
      HttpResponse r = api.handle(req);
      auto body = nlohmann::json::parse(r.body);
      return std::make_pair(r.status, body.contains("error") ? body["error"].value("code", "") : std::string());
    };
    const long long today = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(deliver(today, "delivery-today") == std::make_pair(401, std::string("timestamp_outside_window")));
    CHECK(deliver(then, "delivery-then").first == 201);
    CHECK(deliver(then - 90, "delivery-edge").first == 201);
    CHECK(deliver(then + 90, "delivery-ahead").first == 201);
    CHECK(deliver(then - 91, "delivery-late") == std::make_pair(401, std::string("timestamp_outside_window")));
    clock->advance(std::chrono::seconds(91));
    // The first delivery, sent again once its window has passed, is refused before it is looked up.
    CHECK(deliver(then, "delivery-then") == std::make_pair(401, std::string("timestamp_outside_window")));
    engine->stop();
  }
  fs::remove_all(dir);
}

TEST_CASE("a body field of the wrong type is answered 400 naming it and never as an internal error", "[daemon][api]") {
  fs::path dir = fs::temp_directory_path() / ("vigil-api-types-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  {
    auto store = std::shared_ptr<Store>(std::move(openSqliteStore(dir.string())).value());
    auto users = std::move(UserStore::open(dir.string())).value();
    EngineOptions o;
    o.store = store;
    o.clock = systemClock();
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.timerThread = false;
    auto engine = std::move(Engine::create(o)).value();
    const char* yaml =
        "workflow: w\nversion: 1\nowner: o\nsteps:\n  - id: review\n    approval: { assign: reviewers, options: [approve, reject] }\n";
    auto wf = loadWorkflow(yaml, "w.yaml");
    REQUIRE(wf.ok());
    WorkflowCatalog catalog(*engine, o.connectors.get(), nullptr, nullptr);
    REQUIRE(catalog.publish({{wf.workflow, yaml}}, WorkflowCatalog::Origin::kFolder).front().ok());
    REQUIRE(engine->start().isOk());
    ApiContext c;
    c.engine = engine.get();
    c.catalog = &catalog;
    c.store = store.get();
    c.users = users.get();
    c.clock = o.clock;
    c.log = std::make_shared<spdlog::logger>("test");
    Api api(c);
    const std::string operatorToken = *users->addUser("ola", {"operator", "author"});
    const std::string approverToken = *users->addUser("bea", {"approver", "reviewers"});

    auto call = [&](const std::string& method, const std::string& path, const std::string& token, const std::string& body) {
      HttpRequest req;
      req.method = method;
      req.path = req.target = path;
      req.headers["authorization"] = "Bearer " + token;
      req.headers["x-vigil-purpose"] = "type checks of request bodies";
      req.body = body;
      HttpResponse r = api.handle(req);
      return std::make_pair(r.status, nlohmann::json::parse(r.body));
    };
    auto [started, run] = call("POST", "/api/v1/runs", operatorToken, R"({"workflow": "w"})");
    REQUIRE(started == 201);
    REQUIRE(engine->waitIdle(std::chrono::seconds(10)));
    const std::string task = "/api/v1/approvals/" + run["id"].get<std::string>() + "/review";
    auto [opened, shown] = call("GET", task, approverToken, "");
    REQUIRE(opened == 200);  // opened, so a decision reaches the digest check

    auto [status, answer] = call("POST", task + "/decide", approverToken,
                                 R"({"decision": "approve", "reason": "checked the referral", "shown_digest": {"x": 1}})");
    CHECK(status == 400);
    CHECK(answer["error"].value("field", "") == "shown_digest");
    std::tie(status, answer) = call("POST", "/api/v1/workflows/validate", operatorToken, R"({"source": "workflow: x\n", "file": 7})");
    CHECK(status == 400);
    CHECK(answer["error"].value("field", "") == "file");
    engine->stop();
  }
  fs::remove_all(dir);
}

// Browser sessions, in-process: sign-in and its cookie, the cookie as a credential, CSRF on
// every change a session makes, sign-out, the idle and absolute limits on the injected
// clock, revocation, the sign-in throttle per peer address, the security headers on every
// answer, and roles judged for a session exactly as for its token.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/api.h"
#include "api/change_hub.h"
#include "vigil/loader.h"

using namespace vigil;
using namespace vigil::daemon;
namespace fs = std::filesystem;

namespace {

constexpr long long kStart = 1767225600;  // 2026-01-01T00:00:00Z on the manual clock

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A Set-Cookie value as its name, value and attributes (names lower-cased).
struct SetCookie {
  std::string name, value;
  std::map<std::string, std::string> attributes;
  bool has(const std::string& a) const { return attributes.count(a) != 0; }
};

SetCookie parseSetCookie(const std::string& header) {
  SetCookie c;
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(at, end - at);
    part.erase(0, part.find_first_not_of(' '));
    parts.push_back(part);
    at = end + 1;
  }
  if (parts.empty()) return c;
  const size_t eq = parts[0].find('=');
  c.name = parts[0].substr(0, eq);
  c.value = eq == std::string::npos ? "" : parts[0].substr(eq + 1);
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    const size_t e = parts[i].find('=');
    c.attributes[lower(parts[i].substr(0, e))] = e == std::string::npos ? "" : parts[i].substr(e + 1);
  }
  return c;
}

// An answer as the tests read it.
struct Answer {
  int status = 0;
  nlohmann::json body;
  std::string raw;
  std::map<std::string, std::string> headers;
  std::string code() const {
    return body.is_object() && body.contains("error") ? body["error"].value("code", "") : std::string();
  }
};

// One daemon's API in-process, on its own data directory and a manual clock, with one
// workflow `w` that completes at once.
// A fresh directory, removed with everything in it when this goes.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = fs::temp_directory_path() / ("vigil-session-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

class Harness {
  TempDir dir_;  // first: removed after everything that keeps files in it has closed them

 public:
  explicit Harness(bool tls = false, SessionPolicy policy = {}) {
    clock = std::make_shared<ManualClock>(TimePoint(std::chrono::seconds(kStart)));
    store = std::shared_ptr<Store>(std::move(openSqliteStore(dir_.path.string())).value());
    users = std::move(UserStore::open(dir_.path.string())).value();
    EngineOptions o;
    o.store = store;
    o.clock = clock;
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.timerThread = false;
    connectors_ = o.connectors;
    engine = std::move(Engine::create(o)).value();
    const char* yaml = "workflow: w\nversion: 1\nowner: operator\nsteps:\n  - { id: s, set: { x: 1 } }\n";
    auto wf = loadWorkflow(yaml, "w.yaml");
    REQUIRE(wf.ok());
    catalog = std::make_unique<WorkflowCatalog>(*engine, connectors_.get(), nullptr, nullptr);
    REQUIRE(catalog->publish({{wf.workflow, yaml}}, WorkflowCatalog::Origin::kFolder).front().ok());
    REQUIRE(engine->start().isOk());
    ApiContext c;
    c.engine = engine.get();
    c.catalog = catalog.get();
    c.store = store.get();
    c.users = users.get();
    c.clock = clock;
    c.log = std::make_shared<spdlog::logger>("session-test");
    c.requestsPerSecondPerToken = 100000;  // the rate limit is not what these tests are about
    c.sessions = policy;
    c.tls = tls;
    c.changes = &hub;
    cookieName = tls ? "__Host-vigil_session" : "vigil_session";
    api = std::make_unique<Api>(c);
  }
  ~Harness() {
    api.reset();
    if (engine) engine->stop();
  }

  Answer call(const std::string& method, const std::string& path, const std::map<std::string, std::string>& headers = {},
              const std::string& body = "", const std::string& peer = "127.0.0.1") {
    HttpRequest req;
    req.method = method;
    req.target = path;
    req.path = path.substr(0, path.find('?'));
    // The server parses the query; this harness calls the API directly (plain k=v&k=v here).
    for (size_t at = path.find('?'); at != std::string::npos;) {
      const size_t end = path.find('&', at + 1);
      const std::string pair = path.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
      req.query[pair.substr(0, pair.find('='))] = pair.find('=') == std::string::npos ? "" : pair.substr(pair.find('=') + 1);
      at = end;
    }
    req.headers = headers;
    req.body = body;
    req.peer = peer;
    HttpResponse r = api->handle(req);
    Answer a;
    a.status = r.status;
    a.raw = r.body;
    a.headers = r.headers;
    a.body = nlohmann::json::parse(r.body, nullptr, false);
    return a;
  }
  Answer signIn(const std::string& token, const std::string& peer = "127.0.0.1") {
    return call("POST", "/api/v1/session", {}, nlohmann::json{{"token", token}}.dump(), peer);
  }
  // Signs in and returns the cookie's value and the CSRF token (REQUIREs success).
  std::pair<std::string, std::string> session(const std::string& token) {
    Answer a = signIn(token);
    REQUIRE(a.status == 201);
    REQUIRE(a.headers.count("Set-Cookie") == 1);
    SetCookie c = parseSetCookie(a.headers["Set-Cookie"]);
    REQUIRE(c.name == cookieName);
    return {c.value, a.body.value("csrf_token", "")};
  }
  std::map<std::string, std::string> withCookie(const std::string& value, std::map<std::string, std::string> h = {}) {
    h["cookie"] = cookieName + "=" + value;
    return h;
  }
  size_t runCount() {
    auto runs = store->runs().list(RunFilter{});
    REQUIRE(runs.isOk());
    return runs->size();
  }
  void advance(std::chrono::seconds s) { clock->advance(s); }

  std::shared_ptr<ManualClock> clock;
  std::shared_ptr<Store> store;
  std::unique_ptr<UserStore> users;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<WorkflowCatalog> catalog;
  ChangeHub hub;  // event streams are answered (never started: nothing reads them here)
  std::unique_ptr<Api> api;
  std::string cookieName;

 private:
  std::shared_ptr<ConnectorRegistry> connectors_;
};

const std::string kRunBody = R"({"workflow": "w"})";

}  // namespace

TEST_CASE("sign-in sets an HttpOnly SameSite=Strict cookie for the whole site and never echoes the token", "[daemon][session]") {
  SECTION("over plain HTTP: vigil_session, not Secure") {
    Harness h;
    const std::string token = *h.users->addUser("ola", {"operator"});
    Answer a = h.signIn(token);
    REQUIRE(a.status == 201);
    REQUIRE(a.headers.count("Set-Cookie") == 1);
    const std::string header = a.headers["Set-Cookie"];
    SetCookie c = parseSetCookie(header);
    CHECK(c.name == "vigil_session");
    CHECK(c.value.rfind("vgs_", 0) == 0);
    CHECK(c.value.size() == 68);
    CHECK(c.has("httponly"));
    CHECK(c.has("samesite"));
    CHECK(lower(c.attributes["samesite"]) == "strict");
    CHECK(c.attributes["path"] == "/");
    CHECK_FALSE(c.has("secure"));
    CHECK_FALSE(c.has("domain"));
    CHECK_FALSE(c.has("max-age"));  // a session cookie: gone when the browser closes
    // The answer names the person and the page's CSRF token, never the token signed in with.
    CHECK(a.body.value("user", "") == "ola");
    CHECK(a.body["roles"] == nlohmann::json::array({"operator"}));
    CHECK(a.body.value("csrf_token", "").size() == 64);
    CHECK(a.body.value("expires_at", "") == formatTime(TimePoint(std::chrono::seconds(kStart + 8 * 3600))));
    CHECK(a.body.value("idle_until", "") == formatTime(TimePoint(std::chrono::seconds(kStart + 30 * 60))));
    CHECK(a.raw.find(token) == std::string::npos);
    CHECK(a.raw.find(token.substr(4)) == std::string::npos);
    CHECK(header.find(token) == std::string::npos);
    CHECK(a.body.value("csrf_token", "") != c.value);
  }
  SECTION("over HTTPS: __Host-vigil_session, Secure, and only that name counts") {
    Harness h(true);
    const std::string token = *h.users->addUser("ola", {"operator"});
    Answer a = h.signIn(token);
    REQUIRE(a.status == 201);
    SetCookie c = parseSetCookie(a.headers["Set-Cookie"]);
    CHECK(c.name == "__Host-vigil_session");
    CHECK(c.has("secure"));
    CHECK(c.has("httponly"));
    CHECK(lower(c.attributes["samesite"]) == "strict");
    CHECK(c.attributes["path"] == "/");
    CHECK_FALSE(c.has("domain"));  // __Host- forbids it
    CHECK(a.raw.find(token) == std::string::npos);
    CHECK(h.call("GET", "/api/v1/session", {{"cookie", "__Host-vigil_session=" + c.value}}).status == 200);
    // The unprefixed name, which a sibling subdomain could have set over plain HTTP, is not read.
    CHECK(h.call("GET", "/api/v1/session", {{"cookie", "vigil_session=" + c.value}}).status == 401);
  }
}

TEST_CASE("the session cookie alone authenticates reads and a bad or unknown cookie is 401", "[daemon][session]") {
  Harness h;
  const std::string token = *h.users->addUser("ola", {"operator", "author"});
  auto [cookie, csrf] = h.session(token);

  Answer me = h.call("GET", "/api/v1/session", h.withCookie(cookie));
  REQUIRE(me.status == 200);
  CHECK(me.body.value("via", "") == "session");
  CHECK(me.body.value("user", "") == "ola");
  CHECK(me.body.value("csrf_token", "") == csrf);
  CHECK(h.call("GET", "/api/v1/session", {{"authorization", "Bearer " + token}}).body.value("via", "") == "token");

  Answer wfs = h.call("GET", "/api/v1/workflows", h.withCookie(cookie));
  CHECK(wfs.status == 200);
  CHECK(wfs.raw.find("\"w\"") != std::string::npos);
  // Among other cookies, in any position.
  CHECK(h.call("GET", "/api/v1/workflows", {{"cookie", "theme=dark; vigil_session=" + cookie + "; lang=en"}}).status == 200);

  CHECK(h.call("GET", "/api/v1/workflows").status == 401);
  CHECK(h.call("GET", "/api/v1/workflows", h.withCookie("garbage")).status == 401);
  CHECK(h.call("GET", "/api/v1/workflows", h.withCookie("vgs_" + std::string(64, '0'))).status == 401);
  std::string altered = cookie;
  altered.back() = altered.back() == 'a' ? 'b' : 'a';
  Answer bad = h.call("GET", "/api/v1/workflows", h.withCookie(altered));
  CHECK(bad.status == 401);
  CHECK(bad.code() == "unauthenticated");
  CHECK(h.call("GET", "/api/v1/workflows", {{"cookie", "other_session=" + cookie}}).status == 401);
  // The token itself in the cookie is not a session.
  CHECK(h.call("GET", "/api/v1/workflows", h.withCookie(token)).status == 401);
  // A bad bearer token is judged as sent: it never falls back to a good cookie.
  CHECK(h.call("GET", "/api/v1/workflows", h.withCookie(cookie, {{"authorization", "Bearer vgl_" + std::string(48, 'a')}})).status ==
        401);
}

TEST_CASE("a change made with a session cookie needs its X-CSRF-Token and a same-site request", "[daemon][session]") {
  Harness h;
  const std::string token = *h.users->addUser("ola", {"operator"});
  auto [cookie, csrf] = h.session(token);
  REQUIRE(csrf.size() == 64);
  std::string wrong = csrf;
  wrong[0] = wrong[0] == '0' ? '1' : '0';

  auto refused = [](const Answer& a) {
    INFO(a.raw);
    CHECK(a.status == 403);
    CHECK(a.code() == "csrf_token_invalid");
  };
  refused(h.call("POST", "/api/v1/runs", h.withCookie(cookie), kRunBody));
  refused(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", ""}}), kRunBody));
  refused(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", wrong}}), kRunBody));
  refused(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf.substr(0, 63)}}), kRunBody));
  refused(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", cookie}}), kRunBody));
  refused(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf}, {"sec-fetch-site", "cross-site"}}), kRunBody));
  CHECK(h.runCount() == 0);  // nothing refused started a run

  refused(h.call("DELETE", "/api/v1/session", h.withCookie(cookie)));
  refused(h.call("DELETE", "/api/v1/session", h.withCookie(cookie, {{"x-csrf-token", wrong}})));
  refused(h.call("DELETE", "/api/v1/session", h.withCookie(cookie, {{"x-csrf-token", csrf}, {"sec-fetch-site", "cross-site"}})));
  CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 200);  // still signed in

  Answer ok = h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf}, {"sec-fetch-site", "same-origin"}}), kRunBody);
  CHECK(ok.status == 201);
  CHECK(h.runCount() == 1);
  CHECK(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf}}), kRunBody).status == 201);
  CHECK(h.runCount() == 2);

  // A bearer token is never sent by a browser on its own: no CSRF token is asked of it.
  Answer bearer = h.call("POST", "/api/v1/runs", {{"authorization", "Bearer " + token}}, kRunBody);
  CHECK(bearer.status == 201);
  CHECK(h.runCount() == 3);
}

TEST_CASE("sign-out ends the session and the same cookie is then 401", "[daemon][session]") {
  Harness h;
  const std::string token = *h.users->addUser("ola", {"operator"});
  auto [cookie, csrf] = h.session(token);
  auto [other, otherCsrf] = h.session(token);  // a second page, signed in separately
  REQUIRE(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 200);

  Answer out = h.call("DELETE", "/api/v1/session", h.withCookie(cookie, {{"x-csrf-token", csrf}}));
  REQUIRE(out.status == 200);
  CHECK(out.body.value("signed_out", false));
  SetCookie cleared = parseSetCookie(out.headers["Set-Cookie"]);
  CHECK(cleared.name == "vigil_session");
  CHECK(cleared.value.empty());
  CHECK(cleared.attributes["max-age"] == "0");

  Answer after = h.call("GET", "/api/v1/session", h.withCookie(cookie));
  CHECK(after.status == 401);
  CHECK(after.code() == "unauthenticated");
  CHECK(h.call("GET", "/api/v1/workflows", h.withCookie(cookie)).status == 401);
  CHECK(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf}}), kRunBody).status == 401);
  CHECK(h.runCount() == 0);
  // Only that session ended: the other page and the token itself still work.
  CHECK(h.call("GET", "/api/v1/session", h.withCookie(other)).status == 200);
  CHECK(h.call("GET", "/api/v1/session", {{"authorization", "Bearer " + token}}).status == 200);
  // Signing out with a token instead of a session is refused, and ends nothing.
  CHECK(h.call("DELETE", "/api/v1/session", {{"authorization", "Bearer " + token}}).status == 400);
}

TEST_CASE("a session ends after 30 minutes idle and 8 hours after sign-in, on the injected clock", "[daemon][session]") {
  using std::chrono::minutes;
  SessionPolicy policy;
  policy.idleSeconds = 30 * 60;
  policy.absoluteSeconds = 8 * 60 * 60;
  Harness h(false, policy);
  const std::string token = *h.users->addUser("ola", {"operator"});

  SECTION("idle: each request renews it, 31 minutes without one ends it") {
    auto [cookie, csrf] = h.session(token);
    h.advance(minutes(29));
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 200);
    h.advance(minutes(29));  // 58 minutes after sign-in, 29 after the last request
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 200);
    h.advance(minutes(31));
    Answer idle = h.call("GET", "/api/v1/session", h.withCookie(cookie));
    CHECK(idle.status == 401);
    CHECK(idle.code() == "unauthenticated");
    // Ended, not paused: a request a moment later does not bring it back.
    h.advance(std::chrono::seconds(1));
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 401);
    // The token still signs in afresh.
    CHECK(h.signIn(token).status == 201);
  }
  SECTION("idle: what an open page asks by itself does not renew it") {
    auto [cookie, csrf] = h.session(token);
    // Every 10 minutes the page reconnects its event stream and re-reads what changed; the
    // person has not touched it since signing in.
    for (int m = 10; m < 30; m += 10) {
      h.advance(minutes(10));
      INFO("at +" << m << " min");
      CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie, {{"x-vigil-background", "1"}})).status == 200);
      CHECK(h.call("GET", "/api/v1/events?run=r-followed", h.withCookie(cookie)).status == 200);
      h.hub.release("ola");  // the stream's slot, as when it ends
    }
    h.advance(minutes(10));  // 30 minutes after the last request of the person's own
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie, {{"x-vigil-background", "1"}})).status == 401);
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 401);
  }
  SECTION("idle: a request of the person's own renews it even after background ones") {
    auto [cookie, csrf] = h.session(token);
    h.advance(minutes(20));
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie, {{"x-vigil-background", "1"}})).status == 200);
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 200);  // renewed at +20
    h.advance(minutes(29));
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie, {{"x-vigil-background", "1"}})).status == 200);
    h.advance(minutes(2));  // +51: 31 minutes after the person's last request
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 401);
  }
  SECTION("absolute: used every 20 minutes, it still ends 8 hours after sign-in") {
    auto [cookie, csrf] = h.session(token);
    int served = 0;
    for (int m = 20; m < 8 * 60; m += 20) {
      h.advance(minutes(20));
      INFO("at +" << m << " min");
      Answer a = h.call("GET", "/api/v1/session", h.withCookie(cookie));
      CHECK(a.status == 200);
      if (a.status == 200) ++served;
    }
    CHECK(served == 23);  // +20 min .. +7 h 40 min
    h.advance(minutes(20));  // +8 h
    CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 401);
    CHECK(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf}}), kRunBody).status == 401);
    CHECK(h.runCount() == 0);
  }
}

TEST_CASE("revoking the token a session was made from ends the session at once", "[daemon][session]") {
  Harness h;
  const std::string token = *h.users->addUser("ola", {"operator"});
  const std::string admin = *h.users->addUser("ada", {"admin"});
  auto [cookie, csrf] = h.session(token);
  auto who = h.users->authenticate(token);
  REQUIRE(who.has_value());
  REQUIRE(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 200);
  const std::string secondToken = *h.users->issueToken("ola");
  auto [other, otherCsrf] = h.session(secondToken);  // the same person, from another token

  Answer revoked = h.call("POST", "/api/v1/tokens/" + who->tokenId + "/revoke", {{"authorization", "Bearer " + admin}}, "{}");
  REQUIRE(revoked.status == 200);
  // No clock movement: the very next request is refused.
  CHECK(h.call("GET", "/api/v1/session", h.withCookie(cookie)).status == 401);
  CHECK(h.call("POST", "/api/v1/runs", h.withCookie(cookie, {{"x-csrf-token", csrf}}), kRunBody).status == 401);
  CHECK(h.runCount() == 0);
  CHECK(h.signIn(token).status == 401);
  // A session from another, unrevoked token of the same person goes on.
  CHECK(h.call("GET", "/api/v1/session", h.withCookie(other)).status == 200);
}

TEST_CASE("ten failed sign-ins from one address make the eleventh 429 for that address only, until the window passes",
          "[daemon][session]") {
  Harness h;
  const std::string token = *h.users->addUser("ola", {"operator"});
  const std::string a = "192.0.2.10", b = "192.0.2.20";
  for (int i = 0; i < 10; ++i) {
    Answer failed = h.signIn("vgl_" + std::string(48, static_cast<char>('a' + i % 6)), a);
    INFO("attempt " << i + 1);
    CHECK(failed.status == 401);
    CHECK(failed.code() == "sign_in_failed");
    CHECK(failed.headers.count("Set-Cookie") == 0);
  }
  Answer throttled = h.signIn(token, a);
  CHECK(throttled.status == 429);
  CHECK(throttled.code() == "too_many_failed_sign_ins");
  CHECK(throttled.headers.count("Set-Cookie") == 0);
  CHECK(throttled.headers.count("Retry-After") == 1);
  CHECK(throttled.raw.find("csrf_token") == std::string::npos);

  Answer elsewhere = h.signIn(token, b);
  CHECK(elsewhere.status == 201);
  CHECK(elsewhere.headers.count("Set-Cookie") == 1);

  h.advance(std::chrono::seconds(299));
  CHECK(h.signIn(token, a).status == 429);  // still inside the window
  h.advance(std::chrono::seconds(2));       // 301 s after the failures
  Answer again = h.signIn(token, a);
  CHECK(again.status == 201);
  CHECK(again.headers.count("Set-Cookie") == 1);
}

TEST_CASE("every answer carries the security headers, a 404 for an unknown path included", "[daemon][session]") {
  Harness h;
  const std::string token = *h.users->addUser("ola", {"operator"});
  auto [cookie, csrf] = h.session(token);
  struct Case {
    std::string what;
    Answer answer;
    int status;
  };
  std::vector<Case> cases;
  cases.push_back({"unknown path", h.call("GET", "/no/such/place"), 404});
  cases.push_back({"unknown API path", h.call("GET", "/api/v1/nothing-here", {{"authorization", "Bearer " + token}}), 404});
  cases.push_back({"method not allowed", h.call("PUT", "/api/v1/session", h.withCookie(cookie)), 405});
  cases.push_back({"health", h.call("GET", "/healthz"), 200});
  cases.push_back({"unauthenticated", h.call("GET", "/api/v1/workflows"), 401});
  cases.push_back({"CSRF refusal", h.call("POST", "/api/v1/runs", h.withCookie(cookie), kRunBody), 403});
  cases.push_back({"sign-in", h.signIn(token), 201});
  cases.push_back({"session read", h.call("GET", "/api/v1/session", h.withCookie(cookie)), 200});
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(c.answer.status == c.status);
    auto& hd = c.answer.headers;
    REQUIRE(hd.count("Content-Security-Policy") == 1);
    const std::string csp = hd.at("Content-Security-Policy");
    CHECK_THAT(csp, Catch::Contains("frame-ancestors 'none'"));
    CHECK_THAT(csp, Catch::Contains("script-src 'self'"));
    CHECK_THAT(csp, !Catch::Contains("unsafe-inline"));
    auto value = [&hd](const std::string& name) { return hd.count(name) ? hd.at(name) : std::string("(absent)"); };
    CHECK(value("Referrer-Policy") == "no-referrer");
    CHECK(value("X-Frame-Options") == "DENY");
  }
}

TEST_CASE("roles are enforced for a session exactly as for its token", "[daemon][session]") {
  Harness h;
  const std::string operatorToken = *h.users->addUser("ola", {"operator"});
  const std::string adminToken = *h.users->addUser("ada", {"admin"});
  auto [opCookie, opCsrf] = h.session(operatorToken);
  auto [adminCookie, adminCsrf] = h.session(adminToken);

  Answer byToken = h.call("GET", "/api/v1/users", {{"authorization", "Bearer " + operatorToken}});
  Answer bySession = h.call("GET", "/api/v1/users", h.withCookie(opCookie));
  CHECK(byToken.status == 403);
  CHECK(bySession.status == 403);
  CHECK(bySession.code() == "forbidden");
  CHECK(bySession.raw.find("ada") == std::string::npos);
  // The same route with a session whose roles allow it.
  Answer admin = h.call("GET", "/api/v1/users", h.withCookie(adminCookie));
  CHECK(admin.status == 200);
  CHECK(admin.raw.find("\"ola\"") != std::string::npos);
  // An admin may not start runs, by token or by session (CSRF token sent, so only roles judge).
  CHECK(h.call("POST", "/api/v1/runs", {{"authorization", "Bearer " + adminToken}}, kRunBody).status == 403);
  CHECK(h.call("POST", "/api/v1/runs", h.withCookie(adminCookie, {{"x-csrf-token", adminCsrf}}), kRunBody).status == 403);
  CHECK(h.runCount() == 0);
  // The session's permissions are the token's.
  Answer me = h.call("GET", "/api/v1/session", h.withCookie(opCookie));
  CHECK(me.body["permissions"] == h.call("GET", "/api/v1/session", {{"authorization", "Bearer " + operatorToken}}).body["permissions"]);
}

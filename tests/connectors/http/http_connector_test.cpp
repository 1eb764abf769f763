// The http and webhook connectors against a real server on 127.0.0.1 (http_test_server.py):
// plain HTTP, HTTPS with a CA made at start-up, and HTTPS that requires a client certificate.
#include "vigil/http_connector.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <set>
#include <thread>
#include <vector>

#include "test_server.h"

using namespace std::chrono_literals;
using vigil::CallOutcome;
using vigil::Json;

namespace {

// Values that must never appear in an outcome's message.
const std::map<std::string, std::string> kSecrets = {{"api-token", "tok-SECRETVALUE-1"},
                                                     {"basic-pass", "pw-SECRETVALUE-2"},
                                                     {"hook-key", vigil::test::kWebhookSecret},
                                                     {"bad-token", "tok-SECRETVALUE-4\r\nInjected: yes"}};
const std::string kQueryMarker = "PRIVATEQUERYVALUE";

vigil::HttpConnectorOptions defaults() {
  vigil::HttpConnectorOptions o;
  o.maxResponseBytes = 1024 * 1024;
  o.defaultTimeout = 5s;
  o.secrets = [](const std::string& name) -> std::optional<std::string> {
    auto it = kSecrets.find(name);
    return it == kSecrets.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  return o;
}

// Every failure message the tests see is checked: no secret value, no query string.
void expectClean(const CallOutcome& o) {
  for (const auto& [name, value] : kSecrets) CHECK(o.message.find(value) == std::string::npos);
  CHECK(o.message.find(kQueryMarker) == std::string::npos);
  CHECK(o.message.find('?') == std::string::npos);
}

struct Connectors {
  explicit Connectors(const vigil::HttpConnectorOptions& options = defaults()) {
    REQUIRE(vigil::registerHttpConnectors(registry, options).isOk());
  }

  CallOutcome call(const std::string& connector, const std::string& action, Json input,
                   std::optional<vigil::TimePoint> deadline = std::nullopt) {
    vigil::ConnectorCall c;
    c.runId = "run-1";
    c.step = "call";
    c.attempt = 1;
    c.action = action;
    c.input = std::move(input);
    c.idempotencyKey = "run-1/call/1";
    c.purpose = "contract check\r\nInjected: yes";
    c.deadline = deadline;
    CallOutcome o = registry.find(connector)->call(c);
    if (!o.ok) expectClean(o);
    return o;
  }
  CallOutcome http(const std::string& action, Json input) { return call("http", action, std::move(input)); }

  vigil::ConnectorRegistry registry;
};

void expectFailure(const CallOutcome& o, const std::string& code, bool retryable) {
  INFO(o.message);
  CHECK_FALSE(o.ok);
  CHECK(o.code == code);
  CHECK(o.retryable == retryable);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("outbound policy: schemes, hosts, ports and metadata addresses", "[http][policy]") {
  vigil::OutboundPolicy loopback;
  CHECK(loopback.check("http://127.0.0.1:8080/x?q=1").isOk());
  CHECK(loopback.check("https://LOCALHOST./x").isOk());
  CHECK(loopback.check("http://[::1]:9/").isOk());
  CHECK(loopback.check("http://0x7f.0.0.1/").isOk());  // libcurl's reading: 127.0.0.1

  auto refused = [](const vigil::Status& s) { return s.code() == vigil::Status::Code::kFailedPrecondition; };
  CHECK(refused(loopback.check("file:///etc/passwd")));
  CHECK(refused(loopback.check("ftp://127.0.0.1/")));
  CHECK(refused(loopback.check("gopher://127.0.0.1/")));
  CHECK(refused(loopback.check("http://example.org/")));
  CHECK(refused(loopback.check("http://user:pw@127.0.0.1/")));
  CHECK(loopback.check("not a url").code() == vigil::Status::Code::kInvalidArgument);

  vigil::OutboundPolicy listed;  // metadata and link-local stay refused even when listed
  listed.allow = {"169.254.169.254", "fe80::1", "metadata.google.internal", "::ffff:169.254.169.254", "127.0.0.1:8080"};
  for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://[fe80::1]/",
                          "http://[fe80::1%25eth0]/", "http://metadata.google.internal/", "http://[::ffff:a9fe:a9fe]/",
                          "http://169.254.1.1/"}) {
    INFO(url);
    CHECK(refused(listed.check(url)));
  }
  CHECK(listed.check("http://127.0.0.1:8080/").isOk());
  CHECK(refused(listed.check("http://127.0.0.1:8081/")));

  auto s = loopback.check("http://example.org/p?token=" + kQueryMarker);
  CHECK(s.message().find("example.org") != std::string::npos);
  CHECK(s.message().find(kQueryMarker) == std::string::npos);
}

TEST_CASE("registration checks its options and declares every action", "[http]") {
  vigil::ConnectorRegistry registry;
  auto o = defaults();
  o.outbound.allow = {"host:notaport"};
  CHECK(vigil::registerHttpConnectors(registry, o).code() == vigil::Status::Code::kInvalidArgument);
  o = defaults();
  o.caFile = "/nonexistent/ca.pem";
  CHECK(vigil::registerHttpConnectors(registry, o).code() == vigil::Status::Code::kInvalidArgument);
  CHECK(registry.names().empty());

  REQUIRE(vigil::registerHttpConnectors(registry, defaults()).isOk());
  CHECK(vigil::registerHttpConnectors(registry, defaults()).code() == vigil::Status::Code::kAlreadyExists);
  std::map<std::string, std::string> access;
  for (const char* a : {"request", "get", "post", "put", "patch", "delete"}) {
    auto spec = registry.action("http", a);
    REQUIRE(spec);
    access[a] = spec->access;
  }
  CHECK(access["get"] == "consultation");
  CHECK(access["post"] == "disclosure");
  CHECK(access["put"] == "disclosure");
  CHECK(access["patch"] == "disclosure");
  CHECK(access["delete"] == "alteration");
  auto hook = registry.action("webhook", "send");
  REQUIRE(hook);
  CHECK(hook->access == "disclosure");
}

TEST_CASE("each method reaches the server, with Idempotency-Key and purpose", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  for (const std::string m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    std::string lower = m;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
    for (bool generic : {false, true}) {
      INFO(m << (generic ? " via http.request" : ""));
      Json in = {{"url", server.url("/echo")}};
      if (generic) in["method"] = lower;
      auto o = c.http(generic ? "request" : lower, in);
      REQUIRE(o.ok);
      CHECK(o.output["status"] == 200);
      const Json& echo = o.output["json"];
      CHECK(echo["method"] == m);
      CHECK(echo["headers"]["idempotency-key"] == "run-1/call/1");
      // The line break in the purpose is encoded, never a second header.
      CHECK(echo["headers"]["x-vigil-purpose"] == "contract check%0D%0AInjected: yes");
      CHECK_FALSE(echo["headers"].contains("injected"));
      CHECK_FALSE(echo["headers"].contains("expect"));
    }
  }
}

TEST_CASE("headers, query, json and form bodies", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  auto o = c.http("post", {{"url", server.url("/echo?fixed=1")},
                           {"headers", {{"X-Custom", "abc"}, {"X-Number", 42}, {"X-Empty", ""}}},
                           {"query", {{"q", "a b&c=d"}, {"many", Json::array({1, "two"})}}},
                           {"json", {{"name", "Zoë"}, {"n", 1}}}});
  REQUIRE(o.ok);
  const Json& echo = o.output["json"];
  CHECK(echo["headers"]["x-custom"] == "abc");
  CHECK(echo["headers"]["x-number"] == "42");
  CHECK(echo["headers"]["x-empty"] == "");
  CHECK(echo["headers"]["content-type"] == "application/json");
  CHECK(echo["query"]["fixed"] == Json::array({"1"}));
  CHECK(echo["query"]["q"] == Json::array({"a b&c=d"}));
  CHECK(echo["query"]["many"] == Json::array({"1", "two"}));
  CHECK(Json::parse(echo["body"].get<std::string>()) == Json({{"name", "Zoë"}, {"n", 1}}));

  o = c.http("put", {{"url", server.url("/echo")}, {"form", {{"a", "1 2"}, {"b", "x&y=z"}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["headers"]["content-type"] == "application/x-www-form-urlencoded");
  CHECK(o.output["json"]["body"] == "a=1+2&b=x%26y%3Dz");

  o = c.http("patch", {{"url", server.url("/echo")},
                       {"headers", {{"Content-Type", "application/merge-patch+json"}}},
                       {"json", {{"a", nullptr}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["headers"]["content-type"] == "application/merge-patch+json");

  o = c.http("post", {{"url", server.url("/echo")}});  // no body: no form content type from libcurl
  REQUIRE(o.ok);
  CHECK_FALSE(o.output["json"]["headers"].contains("content-type"));
}

TEST_CASE("responses: lower-case headers, text, binary and JSON", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  auto o = c.http("get", {{"url", server.url("/multi")}});
  REQUIRE(o.ok);
  CHECK(o.output["headers"]["x-multi"] == "one, two");
  CHECK(o.output["headers"]["x-mixed-case"] == "yes");
  CHECK(o.output["json"] == Json({{"ok", true}}));
  CHECK_FALSE(o.output.contains("body"));

  o = c.http("get", {{"url", server.url("/text")}});
  REQUIRE(o.ok);
  CHECK(o.output["body"] == "hello, world");
  CHECK_FALSE(o.output.contains("json"));

  o = c.http("get", {{"url", server.url("/binary")}});
  REQUIRE(o.ok);
  CHECK(o.output["body_base64"] == "//4AAWJpbmFyeQ==");
}

TEST_CASE("bearer and basic auth come from secrets", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  auto o = c.http("get", {{"url", server.url("/echo")}, {"auth", {{"bearer_secret", "api-token"}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["headers"]["authorization"] == "Bearer tok-SECRETVALUE-1");

  o = c.http("get", {{"url", server.url("/echo")},
                     {"auth", {{"basic_user", "svc"}, {"basic_password_secret", "basic-pass"}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["headers"]["authorization"] == "Basic c3ZjOnB3LVNFQ1JFVFZBTFVFLTI=");  // svc:pw-SECRETVALUE-2

  o = c.http("get", {{"url", server.url("/echo")}, {"auth", {{"bearer_secret", "no-such-secret"}}}});
  expectFailure(o, "secret_missing", false);
  CHECK(o.message.find("no-such-secret") != std::string::npos);

  // A token with a line break would add a header of its own: refused, never sent.
  o = c.http("get", {{"url", server.url("/echo")}, {"auth", {{"bearer_secret", "bad-token"}}}});
  expectFailure(o, "secret_invalid", false);
  CHECK(o.message.find("bad-token") != std::string::npos);

  // A failed call with credentials and a query: the message holds neither.
  o = c.http("get", {{"url", server.url("/status/401")},
                     {"query", {{"k", kQueryMarker}}},
                     {"auth", {{"bearer_secret", "api-token"}}}});
  expectFailure(o, "http_401", false);
  CHECK(o.message.find("127.0.0.1") != std::string::npos);
}

TEST_CASE("status codes: 5xx and 429 retryable with Retry-After, other 4xx not", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  auto o = c.http("get", {{"url", server.url("/status/503?retry_after=7")}});
  expectFailure(o, "http_503", true);
  REQUIRE(o.retryAfter);
  CHECK(*o.retryAfter == 7s);

  o = c.http("post",
             {{"url", server.url("/status/429")}, {"query", {{"retry_after", "Wed, 21 Oct 2015 07:28:00 GMT"}}}});
  expectFailure(o, "http_429", true);
  REQUIRE(o.retryAfter);
  CHECK(*o.retryAfter == 0ms);  // a date in the past: retry now

  o = c.http("get", {{"url", server.url("/status/500")}});
  expectFailure(o, "http_500", true);
  CHECK_FALSE(o.retryAfter);

  o = c.http("get", {{"url", server.url("/status/404")}});
  expectFailure(o, "http_404", false);

  o = c.http("get", {{"url", server.url("/status/404")}, {"accept_status", {404, 410}}});
  REQUIRE(o.ok);
  CHECK(o.output["status"] == 404);
}

TEST_CASE("timeouts: timeout_ms and the call's deadline", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  auto start = std::chrono::steady_clock::now();
  auto o = c.http("get", {{"url", server.url("/slow?ms=5000")}, {"timeout_ms", 300}});
  expectFailure(o, "timeout", true);
  CHECK(secondsSince(start) < 2.0);

  start = std::chrono::steady_clock::now();
  auto deadline = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() + 300ms);
  o = c.call("http", "get", {{"url", server.url("/slow?ms=5000")}}, deadline);
  expectFailure(o, "timeout", true);
  CHECK(secondsSince(start) < 2.0);

  o = c.call("http", "get", {{"url", server.url("/echo")}},
             std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() - 1s));
  expectFailure(o, "timeout", true);
}

TEST_CASE("an oversized response is refused without reading it", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;  // limit: 1 MB; the server offers 100 MB
  for (const char* path : {"/huge", "/huge?declare=1"}) {
    INFO(path);
    auto start = std::chrono::steady_clock::now();
    auto o = c.http("get", {{"url", server.url(path)}});
    expectFailure(o, "response_too_large", false);
    CHECK(secondsSince(start) < 2.0);
  }
}

TEST_CASE("a JSON content type with a body that is not JSON", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  expectFailure(c.http("get", {{"url", server.url("/badjson")}}), "invalid_response", false);
}

TEST_CASE("unreachable servers are retryable", "[http]") {
  // A port that was free a moment ago: nothing listens there.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  Connectors c;
  auto o = c.http("get", {{"url", "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x"}});
  expectFailure(o, "unreachable", true);
}

TEST_CASE("TLS: trusted with caFile, refused without it, client certificates", "[http][tls]") {
  auto& server = vigil::test::TestServer::get();
  auto withCa = defaults();
  withCa.caFile = server.file("ca.pem");
  Connectors trusting(withCa);
  auto o = trusting.http("get", {{"url", server.httpsUrl("/echo")}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["client_cn"].is_null());

  Connectors plain;
  expectFailure(plain.http("get", {{"url", server.httpsUrl("/echo")}}), "tls_error", false);

  o = trusting.http(
      "get", {{"url", server.mtlsUrl("/echo")},
              {"client_cert", {{"cert_file", server.file("client.pem")}, {"key_file", server.file("client.key")}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["client_cn"] == "vigil-test-client");

  o = trusting.http("get",
                    {{"url", server.mtlsUrl("/echo")}, {"client_cert", {{"cert_file", "/nonexistent/client.pem"}}}});
  expectFailure(o, "tls_error", false);
}

TEST_CASE("destinations outside the policy are refused before any connection", "[http][policy]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  for (const std::string& url :
       std::vector<std::string>{"file:///etc/passwd", "ftp://127.0.0.1/x", "http://169.254.169.254/latest/meta-data/",
                                "http://example.org/?q=" + kQueryMarker}) {
    INFO(url);
    expectFailure(c.http("get", {{"url", url}}), "destination_refused", false);
  }
  auto o =
      c.call("webhook", "send", {{"url", "http://169.254.169.254/"}, {"json", Json::object()}, {"secret", "hook-key"}});
  expectFailure(o, "destination_refused", false);

  auto portOnly = defaults();  // the server's port only: another port on the same host is refused
  portOnly.outbound.allow = {"127.0.0.1:" + std::to_string(server.http)};
  Connectors narrow(portOnly);
  CHECK(narrow.http("get", {{"url", server.url("/echo")}}).ok);
  expectFailure(narrow.http("get", {{"url", server.httpsUrl("/echo")}}), "destination_refused", false);
}

TEST_CASE("redirects are followed only to allowed destinations", "[http][policy]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  // `to` already percent-encoded.
  auto redirect = [&](const std::string& to, int code = 302) {
    return server.url("/redirect?code=" + std::to_string(code) + "&to=" + to);
  };
  auto encoded = [](const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += std::isalnum(ch) ? std::string(1, static_cast<char>(ch)) : std::string(buf);
    }
    return out;
  };

  auto o = c.http("get", {{"url", redirect(encoded("http://169.254.169.254/latest/meta-data/?x=" + kQueryMarker))}});
  expectFailure(o, "destination_refused", false);
  CHECK(o.message.find("169.254.169.254") != std::string::npos);
  expectFailure(c.http("get", {{"url", redirect(encoded("http://example.org/"))}}), "destination_refused", false);
  expectFailure(c.http("get", {{"url", redirect(encoded("file:///etc/passwd"))}}), "destination_refused", false);

  o = c.http("get", {{"url", redirect(encoded("/echo?after=redirect"))}});  // relative, same server
  REQUIRE(o.ok);
  CHECK(o.output["json"]["path"] == "/echo");
  CHECK(o.output["json"]["query"]["after"] == Json::array({"redirect"}));

  o = c.http("post", {{"url", redirect(encoded("/echo"), 303)}, {"json", {{"a", 1}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["method"] == "GET");
  CHECK(o.output["json"]["body"] == "");

  o = c.http(
      "post",
      {{"url", redirect(encoded("/echo"), 307)}, {"json", {{"a", 1}}}, {"auth", {{"bearer_secret", "api-token"}}}});
  REQUIRE(o.ok);
  CHECK(o.output["json"]["method"] == "POST");
  CHECK(o.output["json"]["body"] == R"({"a":1})");
  CHECK(o.output["json"]["headers"].contains("authorization"));

  // Another origin (localhost is another host name) gets neither credentials nor caller headers.
  const std::string elsewhere = "http://localhost:" + std::to_string(server.http) + "/echo";
  o = c.http("get", {{"url", redirect(encoded(elsewhere))},
                     {"headers", {{"X-Api-Key", "k"}}},
                     {"auth", {{"bearer_secret", "api-token"}}}});
  REQUIRE(o.ok);
  CHECK_FALSE(o.output["json"]["headers"].contains("authorization"));
  CHECK_FALSE(o.output["json"]["headers"].contains("x-api-key"));
  CHECK(o.output["json"]["headers"]["idempotency-key"] == "run-1/call/1");

  // Three redirects allowed: the fourth is one too many.
  std::string chain = server.url("/echo");
  for (int i = 0; i < 4; ++i) chain = redirect(encoded(chain));
  expectFailure(c.http("get", {{"url", chain}}), "too_many_redirects", false);

  o = c.http("get", {{"url", redirect(encoded("/echo"))}, {"accept_status", {302}}});
  REQUIRE(o.ok);
  CHECK(o.output["status"] == 302);
}

TEST_CASE("webhook.send signs the time, the key and the body, and the server verifies it", "[http][webhook]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  Json body = {{"event", "case.closed"}, {"id", 42}, {"name", "Zoë"}};
  auto o = c.call("webhook", "send", {{"url", server.url("/webhook")}, {"json", body}, {"secret", "hook-key"}});
  INFO(o.message);
  REQUIRE(o.ok);
  CHECK(o.output == Json({{"status", 200}}));

  // What was sent: compact JSON, the headers of the contract.
  o = c.call("webhook", "send", {{"url", server.url("/echo")}, {"json", body}, {"secret", "hook-key"}});
  REQUIRE(o.ok);
  CHECK(o.output == Json({{"status", 200}}));

  // The wrong key: the server's check fails, and so does the call (not retryable).
  o = c.call("webhook", "send", {{"url", server.url("/webhook")}, {"json", body}, {"secret", "api-token"}});
  expectFailure(o, "http_401", false);

  o = c.call("webhook", "send", {{"url", server.url("/webhook")}, {"json", body}, {"secret", "missing-key"}});
  expectFailure(o, "secret_missing", false);
  CHECK(o.message.find("missing-key") != std::string::npos);

  expectFailure(c.call("webhook", "send", {{"url", server.url("/webhook")}, {"json", body}}), "invalid_request", false);
  expectFailure(c.call("webhook", "send", {{"url", server.url("/webhook")}, {"secret", "hook-key"}}), "invalid_request",
                false);
}

TEST_CASE("webhook.send sends compact JSON with the contract's headers", "[http][webhook]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  auto o = c.call("webhook", "send",
                  {{"url", server.url("/webhook")}, {"json", {{"b", 2}, {"a", "x y"}}}, {"secret", "hook-key"}});
  REQUIRE(o.ok);
  auto last = c.http("get", {{"url", server.url("/webhook/last")}});
  REQUIRE(last.ok);
  const Json& seen = last.output["json"];
  CHECK(seen["body"] == R"({"a":"x y","b":2})");
  CHECK(seen["headers"]["content-type"] == "application/json");
  CHECK(seen["headers"]["idempotency-key"] == "run-1/call/1");
  CHECK(seen["headers"]["x-vigil-signature"].get<std::string>().rfind("sha256=", 0) == 0);
  CHECK(seen["headers"]["x-vigil-signature"].get<std::string>().size() == 7 + 64);
  CHECK(seen["headers"].contains("x-vigil-timestamp"));
}

TEST_CASE("invalid parameters are named and never sent", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  struct Case {
    std::string action;
    Json input;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"get", Json::object(), "'url'"},
      {"get", {{"url", 42}}, "'url'"},
      {"get", {{"url", "not a url"}}, "'url'"},
      {"get", {{"url", server.url("/echo")}, {"method", "GET"}}, "'method'"},
      {"request", {{"url", server.url("/echo")}, {"method", "TRACE"}}, "'method'"},
      {"get", {{"url", server.url("/echo")}, {"json", 1}}, "GET"},
      {"post", {{"url", server.url("/echo")}, {"json", 1}, {"form", {{"a", 1}}}}, "'form'"},
      {"get", {{"url", server.url("/echo")}, {"headers", {{"X-Evil", "a\r\nInjected: 1"}}}}, "'headers.X-Evil'"},
      {"get", {{"url", server.url("/echo")}, {"headers", {{"Idempotency-Key", "mine"}}}}, "'headers.Idempotency-Key'"},
      {"get", {{"url", server.url("/echo")}, {"headers", {{"Bad Name", "x"}}}}, "'headers.Bad Name'"},
      {"get", {{"url", server.url("/echo")}, {"query", {{"q", Json::object()}}}}, "'query.q'"},
      {"get", {{"url", server.url("/echo")}, {"timeout_ms", 0}}, "'timeout_ms'"},
      {"get", {{"url", server.url("/echo")}, {"timeout_ms", "100"}}, "'timeout_ms'"},
      {"get", {{"url", server.url("/echo")}, {"accept_status", {"404"}}}, "'accept_status'"},
      {"get", {{"url", server.url("/echo")}, {"auth", {{"bearer_secret", "api-token"}, {"basic_user", "u"}}}}, "'auth"},
      {"get",
       {{"url", server.url("/echo")}, {"auth", {{"basic_user", "a:b"}, {"basic_password_secret", "basic-pass"}}}},
       "'auth.basic_user'"},
      {"get", {{"url", server.url("/echo")}, {"client_cert", {{"key_file", "k.pem"}}}}, "'client_cert.cert_file'"},
      {"get", {{"url", server.url("/echo")}, {"body", "x"}}, "'body'"},
  };
  for (const auto& k : cases) {
    INFO(k.input.dump());
    auto o = c.http(k.action, k.input);
    expectFailure(o, "invalid_request", false);
    CHECK(o.message.find(k.names) != std::string::npos);
  }
  expectFailure(c.http("head", {{"url", server.url("/echo")}}), "unknown_action", false);
}

TEST_CASE("consecutive calls to one server reuse its kept-alive connection", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  std::set<int> ports;
  for (int i = 0; i < 5; ++i) {
    auto o = c.http("get", {{"url", server.url("/echo")}, {"query", {{"i", i}}}});
    REQUIRE(o.ok);
    ports.insert(o.output["json"]["client_port"].get<int>());
  }
  CHECK(ports.size() == 1);
  // A connection the server closed is not reused: the next call opens another and succeeds.
  auto closed = c.http("get", {{"url", server.url("/huge")}, {"timeout_ms", 5000}});
  CHECK_FALSE(closed.ok);
  auto after = c.http("get", {{"url", server.url("/echo")}});
  REQUIRE(after.ok);
  CHECK(after.output["status"] == 200);
}

TEST_CASE("many calls at once, each on its own handle", "[http]") {
  auto& server = vigil::test::TestServer::get();
  Connectors c;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        vigil::ConnectorCall call;
        call.action = "get";
        call.input = {{"url", server.url("/echo")}, {"query", {{"t", t}, {"i", i}}}};
        call.idempotencyKey = "run/" + std::to_string(t) + "/" + std::to_string(i);
        auto o = c.registry.find("http")->call(call);
        if (o.ok && o.output["json"]["headers"]["idempotency-key"] == call.idempotencyKey) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 40);
}

// The email connector against a real SMTP server (examples/smtp-sink/smtp_sink.py) on loopback:
// what arrives, how each failure is reported, and that no report carries personal data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <thread>

#include "sink_harness.h"
#include "vigil/email_connector.h"
#include "vigil/loader.h"

namespace vigil {
namespace {

using testing::SmtpSink;
using testing::TestPki;
using Catch::Matchers::Contains;

constexpr const char* kKey = "run-7f3a/notify/1";

// Personal data used in the tests; no CallOutcome message may contain any of it.
const std::vector<std::string> kPersonal = {"jane.doe", "example.org", "Diagnosis", "s3cret-pw"};

EmailConnectorOptions plainOptions(int port) {
  EmailConnectorOptions o;
  o.port = port;
  o.tls = EmailConnectorOptions::Tls::kNone;
  o.from = "vigil@notify.test";
  o.timeout = std::chrono::milliseconds(5000);
  return o;
}

EmailConnectorOptions tlsOptions(int port, bool withCa) {
  EmailConnectorOptions o = plainOptions(port);
  o.tls = EmailConnectorOptions::Tls::kStartTls;
  if (withCa) o.caFile = TestPki::get().caFile().string();
  return o;
}

std::vector<std::string> tlsArgs(bool require) {
  const auto& pki = TestPki::get();
  std::vector<std::string> a = {"--starttls", pki.certFile().string(), pki.keyFile().string()};
  if (require) a.push_back("--require-starttls");
  return a;
}

void requireNoPersonalData(const CallOutcome& out) {
  for (const auto& p : kPersonal) {
    INFO("message: " << out.message);
    CHECK_THAT(out.message, !Contains(p, Catch::CaseSensitive::No));
    CHECK_THAT(out.code, !Contains(p, Catch::CaseSensitive::No));
  }
}

CallOutcome send(const EmailConnectorOptions& o, const Json& input, const std::string& key = kKey,
                 std::optional<TimePoint> deadline = std::nullopt) {
  ConnectorRegistry registry;
  Status s = registerEmailConnector(registry, o);
  INFO(s.message());
  REQUIRE(s.isOk());
  ConnectorCall c;
  c.action = "send";
  c.input = input;
  c.idempotencyKey = key;
  c.deadline = deadline;
  CallOutcome out = registry.find("email")->call(c);
  if (!out.ok) requireNoPersonalData(out);
  return out;
}

Json plainInput() {
  return {{"to", "jane.doe@example.org"}, {"subject", "Your Diagnosis results"}, {"body", "Hello Jane,\nall good.\n"}};
}

// The first header named `name` as Python's email package decoded it; "" when absent.
std::string header(const Json& msg, const std::string& name) {
  for (const auto& h : msg["parsed"]["headers"]) {
    if (h[0].get<std::string>() == name) return h[1].get<std::string>();
  }
  return "";
}

std::string parsedBody(const Json& msg) {
  std::string b = msg["parsed"]["body"].get<std::string>();
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] == '\r' && i + 1 < b.size() && b[i + 1] == '\n') continue;
    out += b[i];
  }
  return out;
}

}  // namespace

TEST_CASE("email.send delivers a well-formed plain message", "[email]") {
  SmtpSink sink;
  auto out = send(plainOptions(sink.port()), plainInput());
  INFO(out.code << ": " << out.message);
  REQUIRE(out.ok);
  CHECK(out.output["recipients"] == 1);
  REQUIRE(sink.count() == 1);
  Json m = sink.message(1);
  CHECK(m["mail_from"] == "vigil@notify.test");
  CHECK(m["rcpt_tos"] == Json::array({"jane.doe@example.org"}));
  CHECK(m["parsed"]["defects"].empty());
  CHECK(header(m, "From") == "vigil@notify.test");
  CHECK(header(m, "To") == "jane.doe@example.org");
  CHECK(header(m, "Subject") == "Your Diagnosis results");
  CHECK(header(m, "Message-ID") == out.output["message_id"].get<std::string>());
  CHECK_THAT(header(m, "Message-ID"), Catch::Matchers::Matches("<vigil\\.[0-9a-f]{32}@notify\\.test>"));
  CHECK(header(m, "X-Vigil-Idempotency-Key") == kKey);
  CHECK(header(m, "MIME-Version") == "1.0");
  CHECK_THAT(header(m, "Content-Type"), Contains("text/plain") && Contains("utf-8"));
  CHECK(header(m, "Content-Transfer-Encoding") == "quoted-printable");
  CHECK_THAT(header(m, "Date"), Catch::Matchers::Matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000"));
  CHECK(header(m, "Reply-To").empty());
  CHECK(parsedBody(m) == "Hello Jane,\nall good.\n");
  // CRLF everywhere: no bare LF reached the wire.
  const std::string data = m["data"];
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n') REQUIRE((i > 0 && data[i - 1] == '\r'));
  }
}

TEST_CASE("email.send encodes non-ASCII, long and awkward text so it reads back exactly", "[email]") {
  SmtpSink sink;
  const std::string subject = "Überprüfung Ihres Falls № 42 — Ergebnis ✓ (ausführliche Fassung, bitte lesen)";
  const std::string longAscii(200, 'x');
  const std::string body = "Grüße!\n.a line starting with a dot\n..two dots\ntrailing spaces   \n= signs = 3\n" +
                           longAscii + "\n" + std::string(40, 'e') + "é" + std::string(40, 'f') + "\nend";
  auto out = send(plainOptions(sink.port()),
                  {{"to", "jane.doe@example.org"}, {"subject", subject}, {"body", body}, {"reply_to", "desk@notify.test"}});
  REQUIRE(out.ok);
  Json m = sink.message(1);
  CHECK(m["parsed"]["defects"].empty());
  CHECK(header(m, "Subject") == subject);
  CHECK(header(m, "Reply-To") == "desk@notify.test");
  CHECK(parsedBody(m) == body + "\n");  // the message ends its last line
  const std::string data = m["data"];
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t eol = data.find("\r\n", start);
    if (eol == std::string::npos) eol = data.size();
    CHECK(eol - start <= 78);
    start = eol + 2;
  }
  for (unsigned char c : data) CHECK(c < 0x80);  // 7-bit on the wire

  SECTION("a long ASCII subject is folded at spaces and unfolds to the original") {
    std::string words;
    for (int i = 0; i < 30; ++i) words += (i ? " " : "") + std::string("word") + std::to_string(i);
    REQUIRE(send(plainOptions(sink.port()), {{"to", "a@notify.test"}, {"subject", words}, {"body", ""}}).ok);
    Json m2 = sink.message(2);
    CHECK(header(m2, "Subject") == words);
    CHECK(m2["parsed"]["defects"].empty());
  }
}

TEST_CASE("email.send fills a template from vars", "[email]") {
  SmtpSink sink;
  auto o = plainOptions(sink.port());
  o.templates["case_update"] = {"Case {{case_id}}: {{ status }}", "Dear {{name}},\ncase {{case_id}} is {{status}} ({{count}} items, urgent: {{urgent}})."};
  auto out = send(o, {{"to", "jane.doe@example.org"},
                      {"template", "case_update"},
                      {"vars", {{"case_id", "C-17"}, {"status", "closed"}, {"name", "Jane"}, {"count", 3}, {"urgent", false}}}});
  REQUIRE(out.ok);
  Json m = sink.message(1);
  CHECK(header(m, "Subject") == "Case C-17: closed");
  CHECK(parsedBody(m) == "Dear Jane,\ncase C-17 is closed (3 items, urgent: false).\n");
}

TEST_CASE("email.send refuses a template whose var is missing, naming the placeholder", "[email]") {
  SmtpSink sink;
  auto o = plainOptions(sink.port());
  o.templates["case_update"] = {"Case {{case_id}}", "Dear {{name}}, see {{link}}"};
  auto out = send(o, {{"to", "jane.doe@example.org"}, {"template", "case_update"}, {"vars", {{"case_id", "C-1"}, {"name", "Jane"}}}});
  CHECK_FALSE(out.ok);
  CHECK(out.code == "invalid_request");
  CHECK_FALSE(out.retryable);
  CHECK_THAT(out.message, Contains("'link'"));
  CHECK(sink.count() == 0);

  auto noVars = send(o, {{"to", "jane.doe@example.org"}, {"template", "case_update"}});
  CHECK(noVars.code == "invalid_request");
  CHECK_THAT(noVars.message, Contains("'case_id'"));

  auto badType = send(o, {{"to", "jane.doe@example.org"}, {"template", "case_update"},
                          {"vars", {{"case_id", Json::array({1})}, {"name", "J"}, {"link", "l"}}}});
  CHECK(badType.code == "invalid_request");
  CHECK_THAT(badType.message, Contains("'case_id'"));
}

TEST_CASE("email.send delivers to several recipients and copies", "[email]") {
  SmtpSink sink;
  auto out = send(plainOptions(sink.port()),
                  {{"to", {"jane.doe@example.org", "john.roe@example.org"}},
                   {"cc", {"records@notify.test", "jane.doe@example.org"}},  // a repeat is sent once
                   {"subject", "s"},
                   {"body", "b"}});
  REQUIRE(out.ok);
  CHECK(out.output["recipients"] == 3);
  // The disclosure record names who received it, not just "email".
  CHECK(out.recipient == "jane.doe@example.org, john.roe@example.org, records@notify.test");
  Json m = sink.message(1);
  CHECK(m["rcpt_tos"] == Json::array({"jane.doe@example.org", "john.roe@example.org", "records@notify.test"}));
  CHECK(header(m, "To") == "jane.doe@example.org, john.roe@example.org");
  CHECK(header(m, "Cc") == "records@notify.test, jane.doe@example.org");
  CHECK(m["parsed"]["defects"].empty());
}

TEST_CASE("a workflow step that discloses through email.send without a purpose is refused when it loads", "[email]") {
  SmtpSink sink;
  ConnectorRegistry registry;
  REQUIRE(registerEmailConnector(registry, plainOptions(sink.port())).isOk());
  auto r = loadWorkflow(R"yaml(workflow: t
version: 1
owner: o
steps:
  - id: tell-school
    uses: email.send
    with: { to: dsl@school.example, subject: s, body: b }
  - id: with-purpose
    uses: email.send
    with: { to: dsl@school.example, subject: s, body: b }
    purpose: Operation Encompass notification
)yaml", "t.yaml");
  REQUIRE(r.ok());
  auto problems = registry.check(*r.workflow, true);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].line == 5);
  CHECK(problems[0].message ==
        "step 'tell-school' discloses data through email.send: say why with 'purpose:' (it is recorded with every disclosure)");
}

TEST_CASE("email.send is safe to call from several threads at once", "[email]") {
  SmtpSink sink;
  ConnectorRegistry registry;
  REQUIRE(registerEmailConnector(registry, plainOptions(sink.port())).isOk());
  CHECK(registry.maxConcurrency("email") == 4);
  auto connector = registry.find("email");
  std::vector<CallOutcome> outs(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&, i] {  // Catch2 assertions are not thread-safe: check afterwards
      ConnectorCall c;
      c.action = "send";
      c.input = plainInput();
      c.idempotencyKey = "run-1/fan-out/" + std::to_string(i);
      outs[i] = connector->call(c);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& o : outs) CHECK(o.ok);
  CHECK(sink.count() == 4);
}

TEST_CASE("email.send refuses malformed parameters, naming each", "[email]") {
  // Nothing listens: a request that got past the checks would fail "unreachable" instead.
  auto o = plainOptions(testing::closedPort());
  o.templates["t"] = {"s", "b"};
  const Json base = plainInput();
  auto with = [&](const std::string& k, const Json& v) {
    Json j = base;
    j[k] = v;
    return j;
  };
  auto without = [&](const std::string& k) {
    Json j = base;
    j.erase(k);
    return j;
  };
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::array(), "object"},
      {without("to"), "'to'"},
      {with("to", 42), "'to'"},
      {with("to", Json::array()), "'to'"},
      {with("to", "not-an-address"), "'to'"},
      {with("to", {"jane.doe@example.org", "Jane <x@y.z>"}), "'to[1]'"},
      {with("cc", "jane.doe@example.org"), "'cc'"},
      {with("cc", {"a@b..c"}), "'cc[0]'"},
      {with("reply_to", "nope"), "'reply_to'"},
      {without("subject"), "'subject'"},
      {with("body", 5), "'body'"},
      {with("template", "t"), "'template'"},
      {with("vars", Json::object()), "'vars'"},
      {{{"to", "jane.doe@example.org"}, {"template", "nope"}}, "'template'"},
      {{{"to", "jane.doe@example.org"}, {"template", "t"}, {"vars", "x"}}, "'vars'"},
      {with("bcc", Json::array()), "'bcc'"},
      {with("subject", std::string("bad \xC3\x28 utf8")), "'subject'"},
      {with("body", std::string("bad \xFF")), "'body'"},
  };
  for (const auto& [input, param] : cases) {
    INFO(input.dump(-1, ' ', false, Json::error_handler_t::replace));
    auto out = send(o, input);
    CHECK(out.code == "invalid_request");
    CHECK_FALSE(out.retryable);
    CHECK_THAT(out.message, Contains(param));
  }
}

TEST_CASE("email.send refuses header injection instead of cleaning it", "[email]") {
  SmtpSink sink;
  auto o = plainOptions(sink.port());
  o.templates["t"] = {"Hello {{name}}", "body"};
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"to", "jane.doe@example.org"}, {"subject", "Hi\r\nBcc: x@evil.test"}, {"body", "b"}}, "'subject'"},
      {{{"to", "jane.doe@example.org"}, {"subject", "Hi\nBcc: x@evil.test"}, {"body", "b"}}, "'subject'"},
      {{{"to", "jane.doe@example.org"}, {"subject", std::string("Hi\0x", 4)}, {"body", "b"}}, "'subject'"},
      {{{"to", "jane.doe@example.org\r\nBcc: x@evil.test"}, {"subject", "s"}, {"body", "b"}}, "'to'"},
      {{{"to", "jane.doe@example.org"}, {"reply_to", "a@b.c\r\nBcc: x@evil.test"}, {"subject", "s"}, {"body", "b"}},
       "'reply_to'"},
      {{{"to", "jane.doe@example.org"}, {"template", "t"}, {"vars", {{"name", "J\r\nBcc: x@evil.test"}}}},
       "template 't'"},
  };
  for (const auto& [input, param] : cases) {
    INFO(param);
    auto out = send(o, input);
    CHECK(out.code == "invalid_request");
    CHECK_FALSE(out.retryable);
    CHECK_THAT(out.message, Contains(param));
    CHECK_THAT(out.message, !Contains("evil"));
  }
  CHECK(sink.count() == 0);
}

TEST_CASE("email.send keeps to the allowed recipient domains", "[email]") {
  SmtpSink sink;
  auto o = plainOptions(sink.port());
  o.allowDomains = {"Example.ORG", "notify.test"};
  REQUIRE(send(o, {{"to", "jane.doe@EXAMPLE.org"}, {"cc", {"x@notify.test"}}, {"subject", "s"}, {"body", "b"}}).ok);
  auto out = send(o, {{"to", "jane.doe@example.org"}, {"cc", {"x@notify.test", "y@mail.example.org"}}, {"subject", "s"}, {"body", "b"}});
  CHECK(out.code == "recipient_refused");
  CHECK_FALSE(out.retryable);
  CHECK_THAT(out.message, Contains("'cc[1]'"));
  CHECK(sink.count() == 1);
}

TEST_CASE("email.send over STARTTLS trusts the configured CA and only it", "[email][tls]") {
  SmtpSink sink(tlsArgs(true));
  auto ok = send(tlsOptions(sink.port(), true), plainInput());
  INFO(ok.code << ": " << ok.message);
  CHECK(ok.ok);

  auto untrusted = send(tlsOptions(sink.port(), false), plainInput());
  CHECK(untrusted.code == "tls_error");
  CHECK_FALSE(untrusted.retryable);
  CHECK(sink.count() == 1);
}

TEST_CASE("email.send refuses plaintext when STARTTLS is required but not offered", "[email][tls]") {
  SmtpSink sink;  // no --starttls
  auto out = send(tlsOptions(sink.port(), true), plainInput());
  CHECK(out.code == "tls_error");
  CHECK_FALSE(out.retryable);
  CHECK_THAT(out.message, Contains("STARTTLS"));
  CHECK(sink.count() == 0);
}

TEST_CASE("email.send speaks implicit TLS (smtps)", "[email][tls]") {
  const auto& pki = TestPki::get();
  SmtpSink sink({"--implicit-tls", pki.certFile().string(), pki.keyFile().string()});
  auto o = tlsOptions(sink.port(), true);
  o.tls = EmailConnectorOptions::Tls::kImplicit;
  auto out = send(o, plainInput());
  INFO(out.code << ": " << out.message);
  CHECK(out.ok);
  CHECK(sink.count() == 1);
}

TEST_CASE("email.send logs in with the password from the secret lookup", "[email][auth]") {
  auto args = tlsArgs(true);
  args.insert(args.end(), {"--require-auth", "vigil-relay", "s3cret-pw"});
  SmtpSink sink(args);
  std::map<std::string, std::string> secrets = {{"smtp_password", "s3cret-pw"}, {"wrong_password", "guess"}};
  auto o = tlsOptions(sink.port(), true);
  o.username = "vigil-relay";
  o.passwordSecret = "smtp_password";
  o.secrets = [&](const std::string& name) -> std::optional<std::string> {
    auto it = secrets.find(name);
    return it == secrets.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto out = send(o, plainInput());
  INFO(out.code << ": " << out.message);
  CHECK(out.ok);
  CHECK(sink.count() == 1);

  o.passwordSecret = "wrong_password";
  auto refused = send(o, plainInput());
  CHECK(refused.code == "smtp_5xx");
  CHECK_FALSE(refused.retryable);
  CHECK_THAT(refused.message, Contains("535"));

  o.passwordSecret = "no_such_secret";
  auto missing = send(o, plainInput());
  CHECK(missing.code == "secret_missing");
  CHECK_THAT(missing.message, Contains("'no_such_secret'"));

  o.username.clear();  // no AUTH: the server refuses MAIL
  auto anonymous = send(o, plainInput());
  CHECK(anonymous.code == "smtp_5xx");
  CHECK(sink.count() == 1);
}

TEST_CASE("email.send may AUTH in plaintext only to loopback", "[email][auth]") {
  SmtpSink sink({"--require-auth", "u", "s3cret-pw"});
  auto o = plainOptions(sink.port());
  o.username = "u";
  o.passwordSecret = "pw";
  o.secrets = [](const std::string&) { return std::optional<std::string>("s3cret-pw"); };
  CHECK(send(o, plainInput()).ok);

  o.host = "mail.notify.test";
  ConnectorRegistry registry;
  Status s = registerEmailConnector(registry, o);
  CHECK(s.code() == Status::Code::kInvalidArgument);
  CHECK_THAT(s.message(), !Contains("s3cret"));
}

TEST_CASE("email.send maps 4xx to retryable and 5xx to final", "[email]") {
  SECTION("451, then the retry with the same key goes through") {
    SmtpSink sink({"--fail-first", "1", "451"});
    auto first = send(plainOptions(sink.port()), plainInput());
    CHECK(first.code == "smtp_4xx");
    CHECK(first.retryable);
    CHECK_THAT(first.message, Contains("451"));
    auto retry = send(plainOptions(sink.port()), plainInput());
    CHECK(retry.ok);
    CHECK(sink.count() == 1);
  }
  SECTION("550") {
    SmtpSink sink({"--fail-first", "1", "550"});
    auto out = send(plainOptions(sink.port()), plainInput());
    CHECK(out.code == "smtp_5xx");
    CHECK_FALSE(out.retryable);
    CHECK_THAT(out.message, Contains("550"));
    CHECK(sink.count() == 0);
  }
}

TEST_CASE("email.send reports an absent or silent server as retryable", "[email]") {
  SECTION("connection refused") {
    auto out = send(plainOptions(testing::closedPort()), plainInput());
    CHECK(out.code == "unreachable");
    CHECK(out.retryable);
  }
  SECTION("no greeting within the timeout") {
    testing::SilentServer silent;
    auto o = plainOptions(silent.port());
    o.timeout = std::chrono::milliseconds(300);
    auto started = std::chrono::steady_clock::now();
    auto out = send(o, plainInput());
    CHECK(out.code == "timeout");
    CHECK(out.retryable);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  }
  SECTION("the step's deadline has passed") {
    testing::SilentServer silent;
    auto past = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) -
                std::chrono::seconds(1);
    auto out = send(plainOptions(silent.port()), plainInput(), kKey, past);
    CHECK(out.code == "timeout");
    CHECK(out.retryable);
  }
}

TEST_CASE("email.send derives the Message-ID from the idempotency key", "[email]") {
  SmtpSink sink;
  auto o = plainOptions(sink.port());
  auto a = send(o, plainInput(), "run-1/notify/1");
  auto b = send(o, plainInput(), "run-1/notify/1");
  auto c = send(o, plainInput(), "run-1/notify/2");
  REQUIRE((a.ok && b.ok && c.ok));
  CHECK(a.output["message_id"] == b.output["message_id"]);
  CHECK(a.output["message_id"] != c.output["message_id"]);
  CHECK(header(sink.message(1), "Message-ID") == header(sink.message(2), "Message-ID"));
  CHECK(header(sink.message(3), "X-Vigil-Idempotency-Key") == "run-1/notify/2");

  auto odd = send(o, plainInput(), "run-1/étape 2/1");
  REQUIRE(odd.ok);
  CHECK(header(sink.message(4), "X-Vigil-Idempotency-Key") == "run-1/%C3%A9tape%202/1");
}

TEST_CASE("email connector failures never carry addresses, subjects or secrets", "[email][privacy]") {
  // Each failure path once, with personal data in every field it could leak from; send()
  // checks every failed outcome against kPersonal.
  auto input = plainInput();
  input["cc"] = {"jane.doe@example.org"};
  SmtpSink fail4({"--fail-first", "5", "451"});
  SmtpSink fail5({"--fail-first", "5", "550"});
  SmtpSink tls(tlsArgs(true));
  std::vector<CallOutcome> outs = {
      send(plainOptions(fail4.port()), input),
      send(plainOptions(fail5.port()), input),
      send(tlsOptions(tls.port(), false), input),
      send(plainOptions(testing::closedPort()), input),
  };
  auto allow = plainOptions(fail4.port());
  allow.allowDomains = {"notify.test"};
  outs.push_back(send(allow, input));
  auto injected = input;
  injected["subject"] = "Diagnosis for jane.doe@example.org\r\nBcc: x";
  outs.push_back(send(plainOptions(fail4.port()), injected));
  auto secret = plainOptions(fail4.port());
  secret.username = "jane.doe@example.org";
  secret.passwordSecret = "smtp";
  secret.secrets = [](const std::string&) { return std::nullopt; };
  outs.push_back(send(secret, input));
  for (const auto& o : outs) CHECK_FALSE(o.ok);
}

TEST_CASE("email connector registration checks its options", "[email]") {
  auto o = plainOptions(25);
  ConnectorRegistry registry;
  REQUIRE(registerEmailConnector(registry, o).isOk());
  CHECK(registerEmailConnector(registry, o).code() == Status::Code::kAlreadyExists);

  CHECK(registry.access("email", "send") == "disclosure");
  // A template the workflow names must be configured (checked when a workflow loads).
  auto email = registry.find("email");
  CHECK(email->checkStatic("send", {{"to", "a@example.org"}, {"template", "nope"}}) ==
        std::vector<std::string>{"template: no e-mail template 'nope' is configured (templates: none)"});
  CHECK(email->checkStatic("send", {{"to", "a@example.org"}, {"subject", "s"}, {"body", "b"}}).empty());
  auto actions = registry.find("email")->actions();
  REQUIRE(actions.size() == 1);
  CHECK(std::any_of(actions[0].params.begin(), actions[0].params.end(), [](const ParamSpec& p) { return p.name == "to" && p.required; }));

  auto refused = [](EmailConnectorOptions bad) {
    ConnectorRegistry r;
    Status s = registerEmailConnector(r, bad);
    return s.code() == Status::Code::kInvalidArgument && r.find("email") == nullptr;
  };
  auto bad = o;
  bad.from = "Vigil <vigil@notify.test>";
  CHECK(refused(bad));
  bad = o;
  bad.templates["t"] = {"Hello {{name", "b"};
  CHECK(refused(bad));
  bad = o;
  bad.templates["t"] = {"s", "Hello {{ }}"};
  CHECK(refused(bad));
  bad = o;
  bad.caFile = "/nonexistent/ca.pem";
  CHECK(refused(bad));
  bad = o;
  bad.username = "u";
  CHECK(refused(bad));  // no passwordSecret
  bad = o;
  bad.port = 0;
  CHECK(refused(bad));
  bad = o;
  bad.host = "mail host";
  CHECK(refused(bad));
  bad = o;
  bad.allowDomains = {"@example.org"};
  CHECK(refused(bad));

  ConnectorCall unknown;
  unknown.action = "fetch";
  CHECK(registry.find("email")->call(unknown).code == "unknown_action");
}

}  // namespace vigil

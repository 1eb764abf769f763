// The tlog-witness service (daemon/src/witness/witness.h) without a socket: what it co-signs,
// every refusal of the protocol, the state it keeps across a restart, and concurrent pushes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>

#include "../../daemon/src/witness/witness.h"

using namespace vigil;
using daemon::HttpRequest;
using daemon::HttpResponse;
using daemon::Witness;

namespace {

constexpr const char* kOrigin = "test.vigil/audit";
constexpr const char* kName = "test.witness/w1";
const TimePoint kStart = TimePoint(std::chrono::milliseconds(1'800'000'000'000LL));

std::string b64(const merkle::Hash& h) { return note::base64(std::string_view(reinterpret_cast<const char*>(h.data()), h.size())); }

// A log: leaves, its key, and signed checkpoints of its first n leaves.
struct FakeLog {
  SigningKey key = std::move(SigningKey::generate()).value();
  std::vector<merkle::Hash> leaves;
  std::string origin = kOrigin;

  explicit FakeLog(int n, const std::string& salt = "") {
    for (int i = 0; i < n; ++i) leaves.push_back(merkle::leafHash(salt + "record " + std::to_string(i)));
  }
  std::string note(uint64_t size) const { return noteOf(note::Checkpoint{origin, size, merkle::rootOf(leaves, 0, size)}); }
  std::string noteOf(const note::Checkpoint& c) const {
    const std::string text = note::checkpointText(c);
    return note::format(note::Note{text, {note::signAsLog(text, origin, key)}});
  }
  std::string request(uint64_t old, uint64_t size) const {
    std::string body = "old " + std::to_string(old) + "\n";
    for (const auto& h : merkle::consistencyProof(leaves, old, size)) body += b64(h) + "\n";
    return body + "\n" + note(size);
  }
};

struct Fixture {
  std::filesystem::path dir;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(kStart);
  std::shared_ptr<std::ostringstream> logged = std::make_shared<std::ostringstream>();
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("witness", std::make_shared<spdlog::sinks::ostream_sink_mt>(*logged));
  FakeLog log1{40};

  Fixture() {
    static std::atomic<int> n{0};
    dir = std::filesystem::temp_directory_path() / ("vigil-witness-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(dir);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  daemon::WitnessConfig config(std::vector<std::string> keys = {}) const {
    if (keys.empty()) keys.push_back(log1.key.publicKeyRaw());
    return daemon::WitnessConfig{dir.string(), kName, {daemon::WitnessedLog{kOrigin, keys}}};
  }
  std::unique_ptr<Witness> open(std::vector<std::string> keys = {}) {
    auto w = Witness::open(config(std::move(keys)), clock, log);
    REQUIRE(w.isOk());
    return std::move(w).value();
  }
  std::string statePath() const { return (dir / "logs" / (merkle::toHex(merkle::sha256(kOrigin)) + ".note")).string(); }
};

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

HttpResponse get(Witness& w, const std::string& path, std::map<std::string, std::string> query = {}) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(query);
  return w.handle(r);
}

}  // namespace

TEST_CASE("the witness co-signs a log's first checkpoint and keeps it, durably, as a valid note", "[daemon][witness]") {
  Fixture f;
  auto w = f.open();
  HttpResponse r = w->addCheckpoint(f.log1.request(0, 10));
  REQUIRE(r.status == 200);
  CHECK(r.contentType == "text/plain");
  CHECK(r.body.rfind(std::string("\xE2\x80\x94 ") + kName + " ", 0) == 0);
  CHECK(std::count(r.body.begin(), r.body.end(), '\n') == 1);

  // The answer appended to the checkpoint is a note whose cosignature verifies, at the clock's time.
  auto joined = note::parse(f.log1.note(10) + r.body);
  REQUIRE(joined);
  auto witnessKey = rawPublicKeyOf(w->publicKeyPem());
  CHECK(note::cosignedAt(*joined, kName, witnessKey) == std::optional<uint64_t>(1'800'000'000));

  // What it serves, and what it wrote before answering, is the log's note with the cosignature.
  HttpResponse held = get(*w, "/checkpoint", {{"origin", kOrigin}});
  REQUIRE(held.status == 200);
  CHECK(held.body == readAll(f.statePath()));
  auto n = note::parse(held.body);
  REQUIRE(n);
  CHECK(note::verifiedByLog(*n, kOrigin, f.log1.key.publicKeyRaw()));
  CHECK(note::cosignedAt(*n, kName, witnessKey));
  CHECK((std::filesystem::status(f.dir / "witness-ed25519.pem").permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));

  // An extension with a proof from what it holds.
  f.clock->advance(std::chrono::seconds(5));
  CHECK(w->addCheckpoint(f.log1.request(10, 25)).status == 200);
  CHECK(w->held(kOrigin)->size == 25);

  // Restarted on the same directory, it holds the same checkpoint.
  const std::string pemBefore = w->publicKeyPem();
  w.reset();
  auto again = f.open();
  REQUIRE(again->held(kOrigin));
  CHECK(again->held(kOrigin)->size == 25);
  CHECK(again->held(kOrigin)->root == merkle::rootOf(f.log1.leaves, 0, 25));
  CHECK(again->publicKeyPem() == pemBefore);  // its own key, kept
  CHECK(again->addCheckpoint(f.log1.request(25, 40)).status == 200);
}

TEST_CASE("the witness answers each protocol refusal with its status and keeps what it holds", "[daemon][witness]") {
  Fixture f;
  auto w = f.open();
  REQUIRE(w->addCheckpoint(f.log1.request(0, 20)).status == 200);
  const std::string before = get(*w, "/checkpoint", {{"origin", kOrigin}}).body;

  SECTION("old size not the one held: 409 with the held size") {
    HttpResponse r = w->addCheckpoint(f.log1.request(10, 30));
    CHECK(r.status == 409);
    CHECK(r.contentType == "text/x.tlog.size");
    CHECK(r.body == "20\n");
    CHECK(w->addCheckpoint(f.log1.request(0, 30)).body == "20\n");
    CHECK(w->addCheckpoint(f.log1.request(0, 10)).status == 409);  // a smaller tree than held
    CHECK(f.logged->str().find("refused (409): test.vigil/audit: old size 10 but the witness holds 20") != std::string::npos);
  }
  SECTION("a rewritten history signed with the log's own key: 422, never co-signed") {
    FakeLog rewritten(40, "forged ");
    rewritten.key = std::move(f.log1.key);  // the log's own key, signing a rewritten history
    std::string body = "old 20\n";
    for (const auto& h : merkle::consistencyProof(rewritten.leaves, 20, 30)) body += b64(h) + "\n";
    HttpResponse r = w->addCheckpoint(body + "\n" + rewritten.note(30));
    CHECK(r.status == 422);
    CHECK(r.body.find("does not extend the one held at 20") != std::string::npos);
    CHECK(w->addCheckpoint("old 20\n\n" + rewritten.note(20)).status == 422);  // same size, other root: a fork
    CHECK(f.logged->str().find("refused (422): test.vigil/audit: checkpoint at 30 records, the witness holds 20") != std::string::npos);
  }
  SECTION("a forged extension: a larger tree with a wrong or missing proof: 422") {
    std::string body = "old 20\n" + b64(merkle::sha256("not a node")) + "\n\n" + f.log1.note(30);
    CHECK(w->addCheckpoint(body).status == 422);
    CHECK(w->addCheckpoint("old 20\n\n" + f.log1.note(30)).status == 422);
  }
  SECTION("the same checkpoint again is co-signed again") {
    CHECK(w->addCheckpoint("old 20\n\n" + f.log1.note(20)).status == 200);
    CHECK(w->held(kOrigin)->size == 20);
  }
  SECTION("a note signed by another key: 403") {
    FakeLog other(40);
    CHECK(w->addCheckpoint(other.request(20, 30)).status == 403);
    CHECK(f.logged->str().find("refused (403): test.vigil/audit at 30 records") != std::string::npos);
  }
  SECTION("an origin it does not follow: 404") {
    FakeLog other(40);
    other.origin = "elsewhere/audit";
    CHECK(w->addCheckpoint(other.request(0, 5)).status == 404);
  }
  SECTION("malformed bodies: 400") {
    for (const std::string& body : {std::string(""), std::string("hello"), std::string("old 020\n\n") + f.log1.note(30),
                                   std::string("old 20\nnot-base64\n\n") + f.log1.note(30),
                                   "old 20\n" + note::base64("short") + "\n\n" + f.log1.note(30),
                                   std::string("old 20\n") + f.log1.note(30), std::string("old 20\n\nnot a note\n"),
                                   std::string("old 20\n\nnot a checkpoint\n\n") + f.log1.note(30).substr(f.log1.note(30).find("\xE2\x80\x94")),
                                   "old 20\n" + std::string(daemon::kMaxWitnessRequest, 'A') + "\n\n" + f.log1.note(30)}) {
      CHECK(w->addCheckpoint(body).status == 400);
    }
    CHECK(w->addCheckpoint("old 31\n\n" + f.log1.note(30)).status == 400);  // old above the new size
  }
  CHECK(get(*w, "/checkpoint", {{"origin", kOrigin}}).body == before);
  CHECK(w->held(kOrigin)->size == 20);
}

TEST_CASE("after a key rotation the witness accepts either configured key of the log", "[daemon][witness]") {
  Fixture f;
  FakeLog rotated(40);
  rotated.leaves = f.log1.leaves;
  auto w = f.open({f.log1.key.publicKeyRaw(), rotated.key.publicKeyRaw()});
  CHECK(w->addCheckpoint(f.log1.request(0, 10)).status == 200);
  CHECK(w->addCheckpoint(rotated.request(10, 20)).status == 200);
  // A note signed by an unknown key beside a known one: the unknown signature is ignored, not kept.
  FakeLog stranger(40);
  const std::string text = note::checkpointText(note::Checkpoint{kOrigin, 30, merkle::rootOf(f.log1.leaves, 0, 30)});
  note::Note both{text, {note::signAsLog(text, kOrigin, stranger.key), note::signAsLog(text, kOrigin, rotated.key)}};
  std::string body = "old 20\n";
  for (const auto& h : merkle::consistencyProof(f.log1.leaves, 20, 30)) body += b64(h) + "\n";
  CHECK(w->addCheckpoint(body + "\n" + note::format(both)).status == 200);
  auto kept = note::parse(get(*w, "/checkpoint", {{"origin", kOrigin}}).body);
  REQUIRE(kept);
  CHECK(kept->signatures.size() == 2);  // the rotated key's and the witness's
}

TEST_CASE("concurrent pushes to the witness from the same old size: exactly one is co-signed", "[daemon][witness]") {
  Fixture f;
  auto w = f.open();
  REQUIRE(w->addCheckpoint(f.log1.request(0, 5)).status == 200);
  for (uint64_t round = 0; round < 10; ++round) {
    const uint64_t old = w->held(kOrigin)->size;
    std::vector<std::string> bodies;
    for (uint64_t k = 1; k <= 3; ++k) bodies.push_back(f.log1.request(old, std::min<uint64_t>(old + k, 40)));
    std::vector<int> statuses(bodies.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < bodies.size(); ++i) {
      threads.emplace_back([&, i] { statuses[i] = w->addCheckpoint(bodies[i]).status; });  // no Catch2 macro off the main thread
    }
    for (auto& t : threads) t.join();
    CHECK(std::count(statuses.begin(), statuses.end(), 200) == 1);
    CHECK(std::count(statuses.begin(), statuses.end(), 409) == 2);
    CHECK(w->held(kOrigin)->size > old);
    if (w->held(kOrigin)->size >= 37) break;
  }
}

TEST_CASE("a damaged state file, or one its key did not sign, stops the witness from starting", "[daemon][witness]") {
  Fixture f;
  {
    auto w = f.open();
    REQUIRE(w->addCheckpoint(f.log1.request(0, 10)).status == 200);
  }
  const std::string good = readAll(f.statePath());
  SECTION("truncated") {
    std::ofstream(f.statePath(), std::ios::trunc) << good.substr(0, good.size() / 2);
    auto w = Witness::open(f.config(), f.clock, f.log);
    REQUIRE_FALSE(w.isOk());
    CHECK(w.status().message().find("is not a checkpoint of test.vigil/audit") != std::string::npos);
  }
  SECTION("the key file replaced") {
    std::filesystem::remove(f.dir / "witness-ed25519.pem");
    auto w = Witness::open(f.config(), f.clock, f.log);
    REQUIRE_FALSE(w.isOk());
    CHECK(w.status().message().find("carries no cosignature by test.witness/w1") != std::string::npos);
  }
  SECTION("a torn temporary file from a crash is ignored") {
    std::ofstream(f.statePath() + ".tmp") << "torn";
    auto w = Witness::open(f.config(), f.clock, f.log);
    REQUIRE(w.isOk());
    CHECK((*w)->held(kOrigin)->size == 10);
    CHECK_FALSE(std::filesystem::exists(f.statePath() + ".tmp"));
  }
}

TEST_CASE("the witness's routes: its key, held checkpoints, and the API's error shape elsewhere", "[daemon][witness]") {
  Fixture f;
  auto w = f.open();
  HttpResponse k = get(*w, "/public-key");
  REQUIRE(k.status == 200);
  auto j = nlohmann::json::parse(k.body);
  CHECK(j["name"] == kName);
  CHECK(j["key_id"] == keyIdOf(w->publicKeyPem()));
  CHECK(j["public_key"] == w->publicKeyPem());
  CHECK(j["vkey"].get<std::string>().rfind(std::string(kName) + "+", 0) == 0);
  CHECK(get(*w, "/checkpoint", {{"origin", kOrigin}}).status == 404);  // none held yet
  CHECK(get(*w, "/checkpoint", {{"origin", "elsewhere"}}).status == 404);
  CHECK(get(*w, "/checkpoint").status == 400);
  CHECK(get(*w, "/add-checkpoint").status == 405);
  CHECK(get(*w, "/add-checkpoint").headers.at("Allow") == "POST");
  HttpResponse missing = get(*w, "/nope");
  CHECK(missing.status == 404);
  CHECK(nlohmann::json::parse(missing.body)["error"]["code"] == "not_found");
  HttpRequest post;
  post.method = "POST";
  post.path = "/add-checkpoint";
  post.body = f.log1.request(0, 3);
  CHECK(w->handle(post).status == 200);
  // Refusals name the origin and sizes, never a key.
  w->addCheckpoint(f.log1.request(1, 4));
  const std::string logged = f.logged->str();
  CHECK(logged.find("refused (409): test.vigil/audit: old size 1 but the witness holds 3") != std::string::npos);
  CHECK(logged.find(note::base64(f.log1.key.publicKeyRaw())) == std::string::npos);
  CHECK(logged.find(note::base64(rawPublicKeyOf(w->publicKeyPem()))) == std::string::npos);
}

TEST_CASE("a witness configuration without a name or a log is refused", "[daemon][witness]") {
  Fixture f;
  auto c = f.config();
  c.name = "has space";
  CHECK(Witness::open(c, f.clock, f.log).status().code() == Status::Code::kInvalidArgument);
  c = f.config();
  c.logs.clear();
  CHECK(Witness::open(c, f.clock, f.log).status().code() == Status::Code::kInvalidArgument);
  c = f.config({"not 32 bytes"});
  CHECK(Witness::open(c, f.clock, f.log).status().code() == Status::Code::kInvalidArgument);
}

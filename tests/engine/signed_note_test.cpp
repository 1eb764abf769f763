// Signed notes, checkpoints, cosignatures and bundle selections (vigil/note.h, audit.h):
// what other transparency-log tools must be able to read, and what an attacker may send.
#include <catch2/catch.hpp>

#include "vigil/audit.h"
#include "vigil/note.h"
#include "vigil/signing.h"

using namespace vigil;

namespace {

merkle::Hash rootOfText(std::string_view s) { return merkle::sha256(s); }

}  // namespace

TEST_CASE("base64 is RFC 4648 standard with padding, and only its canonical form is read", "[audit][note]") {
  CHECK(note::base64("") == "");
  CHECK(note::base64("f") == "Zg==");
  CHECK(note::base64("fo") == "Zm8=");
  CHECK(note::base64("foobar") == "Zm9vYmFy");
  CHECK(note::unbase64("Zm9vYg==") == std::optional<std::string>("foob"));
  CHECK_FALSE(note::unbase64("Zm9vYg"));    // no padding
  CHECK_FALSE(note::unbase64("Zm9vYh=="));  // non-canonical trailing bits
  CHECK_FALSE(note::unbase64("Zm9v-g=="));  // URL alphabet
  CHECK_FALSE(note::unbase64("Zg=a"));
}

TEST_CASE("a checkpoint is the three-line tlog-checkpoint text, signed under its origin", "[audit][note]") {
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());
  note::Checkpoint c{"example.police.uk/vigil", 20852163, rootOfText("tree")};
  const std::string text = note::checkpointText(c);
  CHECK(text == "example.police.uk/vigil\n20852163\n" + note::base64(std::string(reinterpret_cast<const char*>(c.root.data()), 32)) + "\n");
  note::Note n{text, {note::signAsLog(text, c.origin, *key)}};
  const std::string formatted = note::format(n);
  CHECK(formatted.rfind(text + "\n\xE2\x80\x94 example.police.uk/vigil ", 0) == 0);

  // The key hash is SHA-256(name || 0x0A || 0x01 || key)[:4], as signed-note says.
  std::string material = "example.police.uk/vigil\n";
  material += '\x01';
  material += key->publicKeyRaw();
  const auto h = merkle::sha256(material);
  CHECK(n.signatures[0].keyHash == std::string(reinterpret_cast<const char*>(h.data()), 4));

  auto parsed = note::parse(formatted);
  REQUIRE(parsed);
  CHECK(note::verifiedByLog(*parsed, c.origin, key->publicKeyRaw()));
  auto back = note::parseCheckpoint(parsed->text);
  REQUIRE(back);
  CHECK(back->origin == c.origin);
  CHECK(back->size == c.size);
  CHECK(back->root == c.root);

  auto other = SigningKey::generate();
  CHECK_FALSE(note::verifiedByLog(*parsed, c.origin, other->publicKeyRaw()));
  CHECK_FALSE(note::verifiedByLog(*parsed, "another/origin", key->publicKeyRaw()));
  std::string edited = formatted;
  edited.replace(edited.find("20852163"), 8, "20852164");
  auto e = note::parse(edited);
  REQUIRE(e);
  CHECK_FALSE(note::verifiedByLog(*e, c.origin, key->publicKeyRaw()));
}

TEST_CASE("notes from an attacker are refused, never half-read", "[audit][note]") {
  for (const char* bad : {"", "text\n", "text\n\n", "\n\n\xE2\x80\x94 a AAAAAAA=\n", "text\n\n- a Zm9vYmFy\n",
                          "text\n\n\xE2\x80\x94 a Zm9vYmFy", "text\n\n\xE2\x80\x94 a+b Zm9vYmFy\n", "text\n\n\xE2\x80\x94 a Zm9v\n",
                          "te\x01xt\n\n\xE2\x80\x94 a Zm9vYmFy\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(note::parse(bad));
  }
  CHECK_FALSE(note::parseCheckpoint("origin\n012\nAAAA\n"));
  CHECK_FALSE(note::parseCheckpoint("origin\n12\nAAAA\n"));  // not 32 bytes
  CHECK_FALSE(note::parseCheckpoint("origin\n-1\n" + note::base64(std::string(32, 'x')) + "\n"));
  CHECK_FALSE(note::parseCheckpoint("has space\n1\n" + note::base64(std::string(32, 'x')) + "\n"));
  CHECK(note::parseCheckpoint("o\n0\n" + note::base64(std::string(32, 'x')) + "\n"));
}

TEST_CASE("a witness cosignature carries its time and verifies only with the witness's key", "[audit][note]") {
  auto log = SigningKey::generate();
  auto witness = SigningKey::generate();
  const std::string text = note::checkpointText({"o/log", 7, rootOfText("x")});
  note::Note n{text, {note::signAsLog(text, "o/log", *log), note::cosign(text, "w1", *witness, 1733000000)}};
  auto parsed = note::parse(note::format(n));
  REQUIRE(parsed);
  CHECK(note::cosignedAt(*parsed, "w1", witness->publicKeyRaw()) == std::optional<uint64_t>(1733000000));
  CHECK_FALSE(note::cosignedAt(*parsed, "w1", log->publicKeyRaw()));
  CHECK_FALSE(note::cosignedAt(*parsed, "o/log", log->publicKeyRaw()));  // a log signature is not a cosignature
  CHECK(note::verifiedByLog(*parsed, "o/log", log->publicKeyRaw()));
}

TEST_CASE("a checkpoint log is read note by note, a tear is reported, the notes before it kept", "[audit][note]") {
  auto key = SigningKey::generate();
  std::string logText;
  for (uint64_t size : {1, 5, 9}) {
    const std::string t = note::checkpointText({"o/log", size, rootOfText(std::to_string(size))});
    logText += note::format({t, {note::signAsLog(t, "o/log", *key)}}) + "\n";
  }
  auto read = note::parseLog(logText);
  CHECK(read.problem.empty());
  REQUIRE(read.notes.size() == 3);
  CHECK(note::parseCheckpoint(read.notes[2].text)->size == 9);
  auto torn = note::parseLog(logText + "o/log\n13\n");
  CHECK(torn.notes.size() == 3);
  CHECK(torn.problem.find("note 4") != std::string::npos);
  auto cutSig = note::parseLog(logText.substr(0, logText.size() - 10));
  CHECK(cutSig.notes.size() == 2);
  CHECK_FALSE(cutSig.problem.empty());
}

TEST_CASE("checkpoints sign as notes and verify against their key", "[audit][note]") {
  auto key = SigningKey::generate();
  const std::string root = merkle::toHex(rootOfText("r"));
  AuditCheckpoint c = signCheckpoint(42, root, std::string(64, 'a'), TimePoint{}, "o/log", *key);
  CHECK(checkpointSignedBy(c, key->publicKeyPem()));
  AuditCheckpoint moved = c;
  moved.size = 43;  // the row says another size than the note
  CHECK_FALSE(checkpointSignedBy(moved, key->publicKeyPem()));
  CHECK_FALSE(checkpointSignedBy(c, SigningKey::generate()->publicKeyPem()));
}

TEST_CASE("a bundle's selection round-trips and refuses anything else", "[audit][note]") {
  AuditSelection s;
  s.origin = "o/log";
  s.size = 900;
  s.root = rootOfText("r");
  s.runId = "r-abc.1";
  for (uint64_t i = 1; i <= 70; ++i) s.seqs.push_back(i * 3);
  s.sources[std::string(64, 'a')] = std::string(64, 'b');
  auto back = parseAuditSelection(auditSelectionText(s));
  REQUIRE(back);
  CHECK(back->runId == s.runId);
  CHECK(back->seqs == s.seqs);
  CHECK(back->sources == s.sources);
  CHECK(back->root == s.root);
  AuditSelection since = s;
  since.runId.clear();
  since.seqs.clear();
  since.since = TimePoint(std::chrono::milliseconds(1733000000000));
  since.from = 17;
  auto b2 = parseAuditSelection(auditSelectionText(since));
  REQUIRE(b2);
  CHECK(b2->from == 17);
  CHECK(b2->sources == s.sources);
  CHECK(b2->since == since.since);
  std::string text = auditSelectionText(s);
  CHECK_FALSE(parseAuditSelection(text.replace(text.find("records 70"), 10, "records 71")));
  CHECK_FALSE(parseAuditSelection("vigil-audit-selection/1\no\n1\n" + note::base64(std::string(32, 'x')) + "\nrun a\nrecords 2\n5 3\n"));
}

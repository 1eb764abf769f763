// The bytes each audit record and checkpoint commits to. Changing any of these formats
// breaks every existing chain: add a new format version instead.
#include <algorithm>

#include "vigil/audit.h"
#include "vigil/note.h"
#include "vigil/signing.h"

namespace vigil {
namespace {

constexpr int kHeaderFormat = 1;

std::string dumpJson(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

bool isAuditKind(std::string_view kind) {
  return std::any_of(std::begin(kAuditKinds), std::end(kAuditKinds), [&](const char* k) { return kind == k; });
}

// A JSON array written by hand (verification hashes millions of these): strings escape
// '"', '\\' and control characters as JSON requires and keep every other byte as it is, so
// the bytes are exactly reproducible from the stored fields.
std::string auditHeader(const AuditRecord& r) { return auditHeader(r.seq, r.entry, r.payloadHash, r.prev); }

std::string auditHeader(uint64_t seq, const AuditEntry& e, const std::string& payloadHash, const std::string& prev) {
  std::string out;
  out.reserve(256 + e.actor.size() + e.purpose.size() + e.runId.size());
  auto str = [&out](const std::string& s) {
    out += '"';
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c != '"' && c != '\\' && c >= 0x20) continue;
      out.append(s, start, i - start);
      if (c < 0x20) {
        static const char* kHex = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      } else {
        out += '\\';
        out += static_cast<char>(c);
      }
      start = i + 1;
    }
    out.append(s, start, std::string::npos);
    out += "\",";
  };
  out += '[';
  out += std::to_string(kHeaderFormat);
  out += ',';
  out += std::to_string(seq);
  out += ',';
  out += std::to_string(e.time.time_since_epoch().count());
  out += ',';
  for (const std::string* f : {&e.kind, &e.actor, &e.runId, &e.step, &e.subject, &e.system, &e.purpose, &e.recipient,
                               &payloadHash, &prev}) {
    str(*f);
  }
  out.back() = ']';
  return out;
}

AuditSeal sealAuditEntry(uint64_t seq, const AuditEntry& entry, const std::string& prevHash) {
  AuditSeal s;
  s.payloadText = entry.payload.is_null() ? std::string("null") : dumpJson(entry.payload);
  s.payloadHash = merkle::toHex(merkle::sha256(s.payloadText));
  s.leaf = merkle::leafHash(auditHeader(seq, entry, s.payloadHash, prevHash));
  return s;
}

std::string checkpointMessage(const AuditCheckpoint& c) {
  return "vigil-audit-checkpoint/1\n" + std::to_string(c.size) + "\n" + c.root + "\n" + c.head + "\n" +
         std::to_string(c.time.time_since_epoch().count()) + "\n" + c.keyId + "\n";
}

AuditCheckpoint signCheckpoint(uint64_t size, const std::string& root, const std::string& head, TimePoint time,
                               const std::string& origin, const SigningKey& key) {
  AuditCheckpoint c;
  c.size = size;
  c.root = root;
  c.head = head;
  c.time = time;
  c.keyId = key.keyId();
  note::Note n;
  n.text = note::checkpointText({origin, size, merkle::fromHex(root).value_or(merkle::Hash{})});
  n.signatures.push_back(note::signAsLog(n.text, origin, key));
  c.signature = merkle::bytesToHex(n.signatures.back().bytes);
  c.note = note::format(n);
  return c;
}

bool checkpointSignedBy(const AuditCheckpoint& c, const std::string& publicKey) {
  if (c.note.empty()) return verifySignature(publicKey, checkpointMessage(c), merkle::hexToBytes(c.signature));
  auto n = note::parse(c.note);
  auto body = n ? note::parseCheckpoint(n->text) : std::nullopt;
  return body && body->size == c.size && merkle::toHex(body->root) == c.root &&
         note::verifiedByLog(*n, body->origin, rawPublicKeyOf(publicKey));
}

}  // namespace vigil

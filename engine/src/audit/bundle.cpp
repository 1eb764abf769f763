// Export bundles: JSON forms of records, and their offline verification against a
// checkpoint by inclusion proofs (see docs/AUDIT.md).
#include "vigil/audit.h"
#include "vigil/signing.h"

namespace vigil {
namespace {


AuditVerdict fail(AuditVerdict v, uint64_t seq, std::string problem, std::string detail) {
  v.ok = false;
  v.firstBad = seq;
  v.problem = std::move(problem);
  v.detail = std::move(detail);
  return v;
}

}  // namespace

Json auditRecordJson(const AuditRecord& r) {
  const AuditEntry& e = r.entry;
  return {{"seq", r.seq},          {"time", e.time.time_since_epoch().count()},
          {"kind", e.kind},        {"actor", e.actor},
          {"run", e.runId},        {"step", e.step},
          {"subject", e.subject},  {"system", e.system},
          {"purpose", e.purpose},  {"recipient", e.recipient},
          {"payload", r.payloadText ? Json(*r.payloadText) : Json()},
          {"payload_hash", r.payloadHash},
          {"prev", r.prev},        {"hash", r.hash}};
}

std::optional<AuditRecord> auditRecordFromJson(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  try {
    AuditRecord r;
    r.seq = j.at("seq").get<uint64_t>();
    r.entry.time = TimePoint(std::chrono::milliseconds(j.at("time").get<long long>()));
    r.entry.kind = j.at("kind").get<std::string>();
    r.entry.actor = j.at("actor").get<std::string>();
    r.entry.runId = j.at("run").get<std::string>();
    r.entry.step = j.at("step").get<std::string>();
    r.entry.subject = j.at("subject").get<std::string>();
    r.entry.system = j.at("system").get<std::string>();
    r.entry.purpose = j.at("purpose").get<std::string>();
    r.entry.recipient = j.at("recipient").get<std::string>();
    if (!j.at("payload").is_null()) r.payloadText = j.at("payload").get<std::string>();
    r.payloadHash = j.at("payload_hash").get<std::string>();
    r.prev = j.at("prev").get<std::string>();
    r.hash = j.at("hash").get<std::string>();
    return r;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

AuditVerdict verifyAuditBundle(const Json& bundle, const std::string& trustedKey) {
  AuditVerdict v;
  if (!bundle.is_object() || bundle.value("format", "") != kBundleFormat) {
    return fail(v, 0, "unreadable", std::string("not a vigil audit bundle (format ") + kBundleFormat + ")");
  }
  const Json cpj = bundle.value("checkpoint", Json());
  AuditCheckpoint cp;
  try {
    cp.size = cpj.at("size").get<uint64_t>();
    cp.root = cpj.at("root").get<std::string>();
    cp.head = cpj.at("head").get<std::string>();
    cp.time = TimePoint(std::chrono::milliseconds(cpj.at("time").get<long long>()));
    cp.keyId = cpj.at("key_id").get<std::string>();
    cp.signature = cpj.at("signature").get<std::string>();
  } catch (const Json::exception&) {
    return fail(v, 0, "unreadable", "the bundle's checkpoint is incomplete");
  }
  if (keyIdOf(trustedKey) != cp.keyId) {
    return fail(v, 0, "bad signature", "the checkpoint is signed by key " + cp.keyId + ", not by the trusted key " + keyIdOf(trustedKey));
  }
  if (!verifySignature(trustedKey, checkpointMessage(cp), merkle::hexToBytes(cp.signature))) {
    return fail(v, 0, "bad signature", "the checkpoint's signature does not verify");
  }
  auto root = merkle::fromHex(cp.root);
  if (!root) return fail(v, 0, "unreadable", "the checkpoint's root is not a hash");
  const Json records = bundle.value("records", Json::array());
  if (!records.is_array()) return fail(v, 0, "unreadable", "records must be a list");
  std::optional<AuditRecord> previous;
  for (const auto& rj : records) {
    auto r = auditRecordFromJson(rj.value("record", Json()));
    if (!r) return fail(v, 0, "unreadable", "a record in the bundle is incomplete");
    if (merkle::toHex(merkle::leafHash(auditHeader(*r))) != r->hash) {
      return fail(v, r->seq, "modified", "record " + std::to_string(r->seq) + ": its header was modified");
    }
    if (r->payloadText) {
      if (merkle::toHex(merkle::sha256(*r->payloadText)) != r->payloadHash) {
        return fail(v, r->seq, "modified", "record " + std::to_string(r->seq) + ": its payload was modified");
      }
    } else {
      ++v.erasedPayloads;
    }
    if (previous && previous->seq + 1 == r->seq && r->prev != previous->hash) {
      return fail(v, r->seq, "inserted", "record " + std::to_string(r->seq) + " does not link to record " + std::to_string(previous->seq));
    }
    if (previous && previous->seq >= r->seq) {
      return fail(v, r->seq, "reordered", "record " + std::to_string(r->seq) + " comes after record " + std::to_string(previous->seq));
    }
    std::vector<merkle::Hash> proof;
    for (const auto& h : rj.value("proof", Json::array())) {
      auto x = h.is_string() ? merkle::fromHex(h.get<std::string>()) : std::nullopt;
      if (!x) return fail(v, r->seq, "unreadable", "record " + std::to_string(r->seq) + ": its proof holds a non-hash");
      proof.push_back(*x);
    }
    auto leaf = merkle::fromHex(r->hash);
    if (r->seq == 0 || !leaf || !merkle::verifyInclusion(*leaf, r->seq - 1, cp.size, proof, *root)) {
      return fail(v, r->seq, "inserted",
                  "record " + std::to_string(r->seq) + " is not in the signed tree of " + std::to_string(cp.size) + " records");
    }
    previous = r;
    ++v.records;
  }
  v.checkpoints = 1;
  for (const auto& c : bundle.value("consistency", Json::array())) {
    auto oldRoot = merkle::fromHex(c.value("root", ""));
    std::vector<merkle::Hash> proof;
    for (const auto& h : c.value("proof", Json::array())) {
      if (auto x = h.is_string() ? merkle::fromHex(h.get<std::string>()) : std::nullopt) proof.push_back(*x);
    }
    const uint64_t size = c.value("size", uint64_t{0});
    if (!oldRoot || !merkle::verifyConsistency(size, cp.size, *oldRoot, *root, proof)) {
      return fail(v, 0, "modified",
                  "the signed tree of " + std::to_string(cp.size) + " records does not extend the earlier checkpoint at " +
                      std::to_string(size));
    }
    ++v.checkpoints;
  }
  v.head = cp.head;
  v.ok = true;
  return v;
}

}  // namespace vigil

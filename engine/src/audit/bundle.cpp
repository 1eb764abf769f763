// Export bundles: JSON forms of records, and their offline verification against a
// checkpoint by inclusion proofs (see docs/AUDIT.md).
#include <charconv>
#include <set>

#include "vigil/audit.h"
#include "vigil/loader.h"
#include "vigil/note.h"
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

constexpr std::string_view kSelectionFormat = "vigil-audit-selection/1";
constexpr size_t kSeqsPerLine = 32;

bool number(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::optional<AuditCheckpoint> checkpointOf(const Json& j) {
  try {
    AuditCheckpoint cp;
    cp.size = j.at("size").get<uint64_t>();
    cp.root = j.at("root").get<std::string>();
    cp.head = j.at("head").get<std::string>();
    cp.time = TimePoint(std::chrono::milliseconds(j.at("time").get<long long>()));
    cp.keyId = j.at("key_id").get<std::string>();
    cp.signature = j.at("signature").get<std::string>();
    cp.note = j.value("note", "");
    return cp;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::string runOf(const AuditSelection& s) { return s.runId.empty() ? "since " + formatTime(s.since) : "run " + s.runId; }

}  // namespace

std::string auditSelectionText(const AuditSelection& s) {
  std::string out = std::string(kSelectionFormat) + "\n" + s.origin + "\n" + std::to_string(s.size) + "\n" +
                    note::base64(std::string_view(reinterpret_cast<const char*>(s.root.data()), s.root.size())) + "\n";
  if (s.runId.empty()) {
    out += "since " + std::to_string(s.since.time_since_epoch().count()) + "\nfrom " + std::to_string(s.from) + "\n";
  } else {
    out += "run " + s.runId + "\nrecords " + std::to_string(s.seqs.size()) + "\n";
    for (size_t i = 0; i < s.seqs.size(); ++i) {
      out += std::to_string(s.seqs[i]);
      out += (i + 1) % kSeqsPerLine == 0 || i + 1 == s.seqs.size() ? '\n' : ' ';
    }
  }
  for (const auto& [hash, digest] : s.sources) out += "source " + hash + " " + digest + "\n";
  return out;
}

std::optional<AuditSelection> parseAuditSelection(std::string_view text) {
  if (text.empty() || text.back() != '\n') return std::nullopt;
  auto lines = split(text.substr(0, text.size() - 1), '\n');
  if (lines.size() < 6 || lines[0] != kSelectionFormat || !note::validName(lines[1])) return std::nullopt;
  AuditSelection s;
  s.origin = std::string(lines[1]);
  auto root = note::unbase64(lines[3]);
  if (!number(lines[2], &s.size) || !root || root->size() != s.root.size()) return std::nullopt;
  std::copy(root->begin(), root->end(), s.root.begin());
  uint64_t n = 0;
  size_t next = 6;
  if (lines[4].substr(0, 6) == "since ") {
    if (lines[5].substr(0, 5) != "from " || !number(lines[4].substr(6), &n) || !number(lines[5].substr(5), &s.from)) {
      return std::nullopt;
    }
    s.since = TimePoint(std::chrono::milliseconds(static_cast<long long>(n)));
  } else {
    if (lines[4].substr(0, 4) != "run " || lines[4].size() == 4 || lines[5].substr(0, 8) != "records " ||
        !number(lines[5].substr(8), &n)) {
      return std::nullopt;
    }
    s.runId = std::string(lines[4].substr(4));
    for (; next < lines.size() && lines[next].substr(0, 7) != "source "; ++next) {
      for (auto part : split(lines[next], ' ')) {
        uint64_t seq = 0;
        if (!number(part, &seq) || (!s.seqs.empty() && seq <= s.seqs.back()) || s.seqs.size() >= n) return std::nullopt;
        s.seqs.push_back(seq);
      }
    }
    if (s.seqs.size() != n) return std::nullopt;
  }
  for (; next < lines.size(); ++next) {
    auto parts = split(lines[next], ' ');
    if (parts.size() != 3 || parts[0] != "source" || !merkle::fromHex(parts[1]) || !merkle::fromHex(parts[2]) ||
        !s.sources.emplace(std::string(parts[1]), std::string(parts[2])).second) {
      return std::nullopt;
    }
  }
  return s;
}

std::pair<std::string, std::string> startedWith(const AuditRecord& r) {
  if (r.entry.kind != "collection" || !r.payloadText) return {};
  Json p = Json::parse(*r.payloadText, nullptr, false);
  if (!p.is_object() || !p.contains("events") || !p["events"].is_array() || p["events"].empty()) return {};
  const Json& first = p["events"][0];
  if (!first.is_object() || first.value("type", "") != "RunStarted") return {};
  const Json d = first.value("data", Json());
  if (!d.is_object()) return {};
  auto str = [&d](const char* k) { return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : std::string(); };
  return {str("hash"), str("area")};
}

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

namespace {

// The bundle's records: each whole, digest-true, linked where adjacent, in order, and in
// the signed tree. Fills `seqs` and `started` (definitions and areas the runs began with).
std::optional<AuditVerdict> checkRecords(AuditVerdict& v, const Json& records, const AuditCheckpoint& cp,
                                         const merkle::Hash& root, std::vector<uint64_t>* seqs,
                                         std::set<std::string>* workflows, std::set<std::string>* areas) {
  if (!records.is_array()) return fail(v, 0, "unreadable", "records must be a list");
  std::optional<AuditRecord> previous;
  for (const auto& rj : records) {
    auto r = auditRecordFromJson(rj.is_object() ? rj.value("record", Json()) : Json());
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
    if (previous && previous->seq >= r->seq) {
      return fail(v, r->seq, "reordered", "record " + std::to_string(r->seq) + " comes after record " + std::to_string(previous->seq));
    }
    if (previous && previous->seq + 1 == r->seq && r->prev != previous->hash) {
      return fail(v, r->seq, "inserted", "record " + std::to_string(r->seq) + " does not link to record " + std::to_string(previous->seq));
    }
    std::vector<merkle::Hash> proof;
    const Json proofJson = rj.value("proof", Json::array());
    for (const auto& h : proofJson.is_array() ? proofJson : Json::array()) {
      auto x = h.is_string() ? merkle::fromHex(h.get<std::string>()) : std::nullopt;
      if (!x) return fail(v, r->seq, "unreadable", "record " + std::to_string(r->seq) + ": its proof holds a non-hash");
      proof.push_back(*x);
    }
    auto leaf = merkle::fromHex(r->hash);
    if (r->seq == 0 || !leaf || !merkle::verifyInclusion(*leaf, r->seq - 1, cp.size, proof, root)) {
      return fail(v, r->seq, "inserted",
                  "record " + std::to_string(r->seq) + " is not in the signed tree of " + std::to_string(cp.size) + " records");
    }
    auto [wf, area] = startedWith(*r);
    if (!wf.empty()) workflows->insert(wf);
    if (!area.empty()) areas->insert(area);
    seqs->push_back(r->seq);
    previous = r;
    ++v.records;
  }
  return std::nullopt;
}

// Every record the signed selection lists is in the bundle, and nothing else.
std::optional<AuditVerdict> checkComplete(AuditVerdict& v, const AuditSelection& sel, const std::vector<uint64_t>& got) {
  std::vector<uint64_t> want = sel.seqs;
  if (sel.runId.empty()) {
    if (sel.from == 0 || sel.from > sel.size + 1) return fail(v, 0, "unreadable", "the signed selection's range is empty");
    for (uint64_t s = sel.from; s <= sel.size; ++s) want.push_back(s);
  }
  const std::string what = runOf(sel);
  if (got.empty() && !want.empty()) {
    return fail(v, want.front(), "missing",
                "the bundle holds none of the " + std::to_string(want.size()) + " records its signed selection (" + what + ") lists");
  }
  size_t i = 0, j = 0;
  while (i < want.size() || j < got.size()) {
    if (j == got.size() || (i < want.size() && want[i] < got[j])) {
      const bool tail = j == got.size();
      return fail(v, want[i], tail ? "truncated" : "missing",
                  "record " + std::to_string(want[i]) + " of " + what + " is not in the bundle (the signed selection lists " +
                      std::to_string(want.size()) + ", the bundle holds " + std::to_string(got.size()) + ")" +
                      (tail ? ": the bundle was cut" : ""));
    }
    if (i == want.size() || got[j] < want[i]) {
      return fail(v, got[j], "inserted", "record " + std::to_string(got[j]) + " is in the bundle but not in its signed selection (" + what + ")");
    }
    ++i;
    ++j;
  }
  return std::nullopt;
}

// Each workflow definition and area file the bundle keeps is the one its hash names, and
// every one a run started with is there.
std::optional<AuditVerdict> checkSources(AuditVerdict& v, const Json& bundle, const AuditSelection& sel,
                                         const std::set<std::string>& workflows, const std::set<std::string>& areas) {
  const Json wfs = bundle.value("workflows", Json::object());
  const Json ars = bundle.value("areas", Json::object());
  if (!wfs.is_object() || !ars.is_object()) return fail(v, 0, "unreadable", "workflows and areas must be maps of hash to text");
  for (const auto& [hash, source] : wfs.items()) {
    auto signedDigest = sel.sources.find(hash);
    if (signedDigest == sel.sources.end()) {
      return fail(v, 0, "inserted", "the workflow definition kept under " + hash.substr(0, 16) + "... is not in the signed selection");
    }
    if (!source.is_string() || merkle::toHex(merkle::sha256(source.get<std::string>())) != signedDigest->second) {
      return fail(v, 0, "modified", "the workflow definition kept under " + hash.substr(0, 16) + "... is not the text exported: it was edited");
    }
    LoadResult loaded = source.is_string() ? loadWorkflow(source.get<std::string>(), "bundle:" + hash.substr(0, 16)) : LoadResult{};
    if (!loaded.ok() || loaded.workflow->hash != hash) {
      return fail(v, 0, "modified", "the workflow definition kept under " + hash.substr(0, 16) + "... is not the one that hash names: it was edited");
    }
  }
  for (const auto& [hash, text] : ars.items()) {
    if (!text.is_string() || merkle::toHex(merkle::sha256(text.get<std::string>())) != hash) {
      return fail(v, 0, "modified", "the area file kept under " + hash.substr(0, 16) + "... is not the one that hash names: it was edited");
    }
  }
  for (const auto& [h, digest] : sel.sources) {
    if (!wfs.contains(h)) return fail(v, 0, "missing", "the workflow definition " + h.substr(0, 16) + "... the signed selection lists is not in the bundle");
  }
  for (const auto& h : workflows) {
    if (!wfs.contains(h)) return fail(v, 0, "missing", "the workflow definition " + h.substr(0, 16) + "... a run started with is not in the bundle");
  }
  for (const auto& h : areas) {
    if (!ars.contains(h)) return fail(v, 0, "missing", "the area file " + h.substr(0, 16) + "... a run started with is not in the bundle");
  }
  return std::nullopt;
}

AuditVerdict verifyBundle(const Json& bundle, const std::string& trustedKey) {
  AuditVerdict v;
  const std::string format = bundle.is_object() ? bundle.value("format", "") : "";
  const bool legacy = format == "vigil-audit-bundle/1";
  if (format != kBundleFormat && !legacy) {
    return fail(v, 0, "unreadable", std::string("not a vigil audit bundle (format ") + kBundleFormat + ")");
  }
  auto cp = checkpointOf(bundle.value("checkpoint", Json()));
  if (!cp) return fail(v, 0, "unreadable", "the bundle's checkpoint is incomplete");
  if (keyIdOf(trustedKey).empty()) return fail(v, 0, "bad key", "the trusted public key is not an Ed25519 public key");
  if (keyIdOf(trustedKey) != cp->keyId) {
    return fail(v, 0, "bad signature", "the checkpoint is signed by key " + cp->keyId + ", not by the trusted key " + keyIdOf(trustedKey));
  }
  if (!checkpointSignedBy(*cp, trustedKey)) return fail(v, 0, "bad signature", "the checkpoint's signature does not verify");
  auto root = merkle::fromHex(cp->root);
  if (!root) return fail(v, 0, "unreadable", "the checkpoint's root is not a hash");
  if (legacy && !cp->note.empty()) {
    return fail(v, 0, "modified", "the bundle says it is format 1, but its checkpoint is a signed note, which only bundles with a "
                                  "signed selection carry: the selection was removed");
  }

  std::optional<AuditSelection> selection;
  if (!legacy) {
    auto n = note::parse(bundle.value("selection", ""));
    selection = n ? parseAuditSelection(n->text) : std::nullopt;
    if (!selection) {
      return fail(v, 0, "modified", "the bundle's signed selection (which records it must hold) is missing or altered");
    }
    if (!note::verifiedByLog(*n, selection->origin, rawPublicKeyOf(trustedKey))) {
      return fail(v, 0, "bad signature", "the bundle's selection is not signed by the trusted key");
    }
    if (selection->size != cp->size || selection->root != *root) {
      return fail(v, 0, "modified", "the signed selection is for another checkpoint than the bundle's");
    }
  }
  std::vector<uint64_t> seqs;
  std::set<std::string> workflows, areas;
  if (auto f = checkRecords(v, bundle.value("records", Json::array()), *cp, *root, &seqs, &workflows, &areas)) return *f;
  if (selection) {
    if (auto f = checkComplete(v, *selection, seqs)) return *f;
    if (auto f = checkSources(v, bundle, *selection, workflows, areas)) return *f;
  }
  v.checkpoints = 1;
  const Json consistency = bundle.value("consistency", Json::array());
  for (const auto& c : consistency.is_array() ? consistency : Json::array()) {
    if (!c.is_object()) return fail(v, 0, "unreadable", "a consistency proof is not an object");
    auto oldRoot = merkle::fromHex(c.value("root", ""));
    std::vector<merkle::Hash> proof;
    const Json pj = c.value("proof", Json::array());
    for (const auto& h : pj.is_array() ? pj : Json::array()) {
      if (auto x = h.is_string() ? merkle::fromHex(h.get<std::string>()) : std::nullopt) proof.push_back(*x);
    }
    const uint64_t size = c.value("size", uint64_t{0});
    if (!oldRoot || !merkle::verifyConsistency(size, cp->size, *oldRoot, *root, proof)) {
      return fail(v, 0, "modified",
                  "the signed tree of " + std::to_string(cp->size) + " records does not extend the earlier checkpoint at " +
                      std::to_string(size));
    }
    ++v.checkpoints;
  }
  v.head = cp->head;
  v.ok = true;
  if (legacy) {
    v.caveat = "a format 1 bundle cannot show that it holds every record of its selection; export it again for one that can";
  }
  return v;
}

}  // namespace

AuditVerdict verifyAuditBundle(const Json& bundle, const std::string& trustedKey) {
  try {
    return verifyBundle(bundle, trustedKey);
  } catch (const Json::exception&) {
    return fail(AuditVerdict{}, 0, "unreadable", "the bundle holds a value of the wrong type");
  }
}

}  // namespace vigil

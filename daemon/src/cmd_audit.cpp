// vigil audit verify | export | public-key | rotate-key.
// `verify` works offline, on a data directory or an export bundle, trusting a public key
// from outside what it checks; the others go through the server.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/audit_service.h"
#include "cli.h"
#include "client.h"
#include "config.h"
#include "secret_store.h"
#include "store_setup.h"
#include "http/http_client.h"
#include "vigil/note.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {
namespace {

constexpr int kExitTampered = 1;
constexpr int kExitUnusable = 2;
constexpr int kExitNoAnchor = 3;

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int exitOf(const AuditVerdict& v) {
  if (v.ok) return v.caveat.empty() ? kExitOk : kExitNoAnchor;
  return unusableInput(v) ? kExitUnusable : kExitTampered;
}

int report(const AuditVerdict& v, bool asJson) {
  const int rc = exitOf(v);
  if (asJson) {
    std::cout << json{{"ok", v.ok},         {"records", v.records},         {"head", v.head},
                      {"checkpoints", v.checkpoints}, {"anchors", v.anchors}, {"erased_payloads", v.erasedPayloads},
                      {"first_bad", v.firstBad}, {"problem", v.problem}, {"detail", v.detail},
                      {"caveat", v.caveat},  {"exit", rc}}
                     .dump()
              << "\n";
  } else if (v.ok) {
    std::cout << "OK " << v.records << " records, head " << v.head;
    if (v.anchors > 0) std::cout << ", extending " << v.anchors << " trusted checkpoint(s)";
    std::cout << "\n";
    if (v.erasedPayloads > 0) std::cout << v.erasedPayloads << " payload(s) erased by retention; their digests verify\n";
    if (!v.caveat.empty()) std::cout << "note: " << v.caveat << "\n";
  } else {
    if (unusableInput(v)) std::cerr << "vigil audit verify: " << v.detail << "\n";
    std::cout << (unusableInput(v) ? "UNUSABLE " : "BAD ")
              << (v.firstBad > 0 ? "record " + std::to_string(v.firstBad) + ": " : std::string()) << v.problem << ": "
              << v.detail << "\n";
  }
  return rc;
}

int unusable(const std::string& detail, bool asJson) {
  AuditVerdict v;
  v.problem = "unreadable";
  v.detail = detail;
  return report(v, asJson);
}

// Trusted checkpoints from outside the store: files of signed notes (a checkpoint log or
// one saved checkpoint) and witnesses. Returns an exit status when one cannot be used.
struct Anchors {
  std::vector<AuditAnchor> notes;
  std::vector<std::string> witnessKeys;  // PEM
};

std::optional<std::string> addCheckpointFile(const std::string& path, Anchors* a) {
  auto text = readFile(path);
  if (!text) return "cannot read the checkpoint file " + path;
  note::LogRead read = note::parseLog(*text);
  if (read.notes.empty()) return path + " holds no signed checkpoint" + (read.problem.empty() ? "" : ": " + read.problem);
  // A crash mid-append leaves a torn last note; the notes before it still hold.
  if (!read.problem.empty()) std::cerr << "warning: " << path << ": " << read.problem << "; using the " << read.notes.size() << " before it\n";
  for (size_t i = 0; i < read.notes.size(); ++i) {
    a->notes.push_back(AuditAnchor{note::format(read.notes[i]),
                                   read.notes.size() == 1 ? path : path + " (note " + std::to_string(i + 1) + ")"});
  }
  return std::nullopt;
}

std::optional<std::string> addWitness(const std::string& url, const std::string& origin, Anchors* a) {
  if (origin.empty()) return "the log's origin is not known: give --config FILE or keep DIR/keys/audit-origin";
  auto client = HttpClient::create(url, env("VIGIL_CA_FILE"), std::chrono::seconds(15));
  if (!client) return "witness " + url + ": " + client.status().message();
  auto r = client->send("GET", "/checkpoint?origin=" + urlEncode(origin), {}, "");
  if (!r) return "cannot reach witness " + url + ": " + r.status().message();
  if (r->status == 404) return "witness " + url + " holds no checkpoint of " + origin;
  if (r->status != 200) return "witness " + url + " answered HTTP " + std::to_string(r->status);
  auto n = note::parse(r->body);
  if (!n) return "witness " + url + " answered with something that is not a signed note";
  if (!a->witnessKeys.empty()) {
    bool cosigned = false;
    for (const auto& pem : a->witnessKeys) {
      for (const auto& sig : n->signatures) cosigned = cosigned || note::cosignedAt(*n, sig.name, rawPublicKeyOf(pem)).has_value();
    }
    if (!cosigned) return "the checkpoint from witness " + url + " carries no valid cosignature by a --witness-key";
  }
  a->notes.push_back(AuditAnchor{r->body, "witness " + url});
  return std::nullopt;
}

int verify(CommandContext& ctx) {
  std::string data, bundle, publicKey, configFile;
  std::vector<std::string> checkpointFiles, witnesses, witnessKeyFiles;
  bool asJson = false;
  po::options_description opts;
  opts.add_options()("data", po::value(&data))("bundle", po::value(&bundle))("public-key", po::value(&publicKey))(
      "checkpoint", po::value(&checkpointFiles))("witness", po::value(&witnesses))("witness-key", po::value(&witnessKeyFiles))(
      "config", po::value(&configFile))("json", po::bool_switch(&asJson));
  po::positional_options_description pos;
  pos.add("bundle", 1);
  int rc = kExitOk;
  if (!parseOptions("audit verify", ctx, opts, pos, &rc)) return rc;
  ServeConfig config;
  if (!configFile.empty()) {
    if (Status s = loadServeConfig(configFile, &config); !s) {
      std::cerr << s.message() << "\n";
      return kExitUsage;
    }
    if (data.empty() && bundle.empty()) data = config.data;
    if (!config.audit.checkpointLog.empty()) checkpointFiles.push_back(config.audit.checkpointLog);
    witnesses.insert(witnesses.end(), config.audit.witnesses.begin(), config.audit.witnesses.end());
  }
  if (data.empty() == bundle.empty()) return usageError("audit verify", "give --data DIR or a BUNDLE file (one of them)");
  std::string trusted;
  if (!publicKey.empty()) {
    auto k = readFile(publicKey);
    if (!k) return usageError("audit verify", "cannot read public key file '" + publicKey + "'");
    trusted = *k;
  }
  Anchors anchors;
  for (const auto& f : witnessKeyFiles) {
    auto k = readFile(f);
    if (!k || keyIdOf(*k).empty()) return usageError("audit verify", "'" + f + "' is not a readable Ed25519 public key");
    anchors.witnessKeys.push_back(*k);
  }
  if (!bundle.empty()) {
    if (!checkpointFiles.empty() || !witnesses.empty()) {
      return usageError("audit verify", "--checkpoint and --witness hold a data directory to account; a bundle is checked "
                                        "against --public-key");
    }
    auto text = readFile(bundle);
    if (!text) return unusable("cannot read bundle '" + bundle + "'", asJson);
    json b = json::parse(*text, nullptr, false);
    if (b.is_discarded()) return unusable(bundle + " is not JSON", asJson);
    std::string caveat;
    if (trusted.empty()) {
      trusted = b.is_object() && b.value("public_key", json()).is_string() ? b["public_key"].get<std::string>() : "";
      caveat = "trusted the key inside the bundle (id " + keyIdOf(trusted) +
               "); compare it with your force's published key id, or give --public-key FILE";
    }
    AuditVerdict v = verifyAuditBundle(b, trusted);
    if (v.ok && !caveat.empty()) v.caveat = v.caveat.empty() ? caveat : v.caveat + "; " + caveat;
    return report(v, asJson);
  }
  // The configuration's shared store, when it names one: its records are read through the
  // store; the data directory still holds this node's keys.
  const bool shared = !config.store.postgres.empty();
  if (!std::filesystem::is_directory(data)) return unusable("no data directory at " + data, asJson);
  if (!shared && !std::filesystem::is_regular_file(std::filesystem::path(data) / "vigil.db")) {
    return unusable(data + " has no vigil.db: the store is missing (deleted, moved or never created)", asJson);
  }
  if (trusted.empty()) {
    auto k = readFile(AuditPaths::inDataDir(data).publicKey);
    if (!k) return unusable("no public key in " + data + "/keys; give --public-key FILE", asJson);
    trusted = *k;
  }
  for (const auto& f : checkpointFiles) {
    if (auto problem = addCheckpointFile(f, &anchors)) return unusable(*problem, asJson);
  }
  if (!witnesses.empty()) {
    std::string origin = config.audit.origin;
    if (origin.empty()) {
      std::ifstream in(AuditPaths::inDataDir(data).origin);
      std::getline(in, origin);
    }
    for (const auto& w : witnesses) {
      if (auto problem = addWitness(w, origin, &anchors)) return unusable(*problem, asJson);
    }
  }
  if (shared) {
    auto secrets = SecretStore::load(config.secretsFile);
    if (!secrets) return unusable(secrets.status().message(), asJson);
    auto store = openConfiguredStore(config, *secrets, /*upgrade=*/false);
    if (!store) return unusable(store.status().message(), asJson);
    return report(verifyAudit(*auditSourceOf(**store), trusted, anchors.notes), asJson);
  }
  auto source = openSqliteAuditSource(data);
  if (!source) return unusable(source.status().message(), asJson);
  return report(verifyDataDir(data, **source, trusted, anchors.notes), asJson);
}

int exportBundle(CommandContext& ctx) {
  ClientOptions c;
  std::string run, since, out;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("run", po::value(&run))("since", po::value(&since))("out", po::value(&out));
  po::positional_options_description pos;
  pos.add("run", 1);
  int rc = kExitOk;
  if (!parseOptions("audit export", ctx, opts, pos, &rc)) return rc;
  if (run.empty() == since.empty()) return usageError("audit export", "give a RUN or --since DATE (one of them)");
  if (out.empty()) return usageError("audit export", "give --out FILE");
  std::string target = "/api/v1/audit/export?" + (run.empty() ? "since=" + urlEncode(since) : "run=" + urlEncode(run));
  auto r = call("audit export", c, "GET", target, "", &rc);
  if (!r) return rc;
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << r->dump(1) << "\n";
  if (!f) return usageError("audit export", "cannot write '" + out + "'");
  std::cout << (c.asJson ? json{{"out", out}, {"records", (*r)["records"].size()}}.dump()
                         : "wrote " + std::to_string((*r)["records"].size()) + " record(s) to " + out)
            << "\n";
  return kExitOk;
}

int publicKey(CommandContext& ctx) {
  ClientOptions c;
  std::string data;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("data", po::value(&data));
  int rc = kExitOk;
  if (!parseOptions("audit public-key", ctx, opts, po::positional_options_description(), &rc)) return rc;
  if (!data.empty()) {
    if (auto missing = missingDataDir(data)) return usageError("audit public-key", *missing);
    auto k = readFile(AuditPaths::inDataDir(data).publicKey);
    if (!k) return usageError("audit public-key", "no public key in " + data + "/keys");
    std::cout << *k;
    // The id is what auditors compare and publish; on stderr so stdout stays the PEM alone.
    std::cerr << "key id " << keyIdOf(*k) << "\n";
    return kExitOk;
  }
  auto r = call("audit public-key", c, "GET", "/api/v1/audit/public-key", "", &rc);
  if (!r) return rc;
  std::cout << (c.asJson ? r->dump() + "\n" : (*r)["public_key"].get<std::string>());
  if (!c.asJson) std::cerr << "key id " << r->value("key_id", "") << "\n";
  return kExitOk;
}

int rotateKey(CommandContext& ctx) {
  ClientOptions c;
  po::options_description opts;
  addCommon(opts, c);
  int rc = kExitOk;
  if (!parseOptions("audit rotate-key", ctx, opts, po::positional_options_description(), &rc)) return rc;
  auto r = call("audit rotate-key", c, "POST", "/api/v1/audit/rotate-key", "{}", &rc);
  if (!r) return rc;
  std::cout << (c.asJson ? r->dump() : "new audit key " + (*r)["key_id"].get<std::string>()) << "\n";
  return kExitOk;
}

int runAudit(CommandContext& ctx) {
  if (ctx.args.empty()) return usageError("audit", "give a subcommand: verify, export, public-key or rotate-key");
  std::string sub = ctx.args.front();
  CommandContext rest{std::vector<std::string>(ctx.args.begin() + 1, ctx.args.end()), ctx.log};
  if (sub == "verify") return verify(rest);
  if (sub == "export") return exportBundle(rest);
  if (sub == "public-key") return publicKey(rest);
  if (sub == "rotate-key") return rotateKey(rest);
  return usageError("audit", "unknown subcommand '" + sub + "' (verify, export, public-key, rotate-key)");
}

}  // namespace

Command auditCommand() {
  return Command{
      "audit", "Verify the audit trail offline; export evidence bundles; show or rotate the signing key",
      "vigil audit verify (--data DIR | BUNDLE) [--public-key FILE] [--checkpoint FILE]... [--witness URL]...\n"
      "                   [--witness-key FILE]... [--config FILE] [--json]\n"
      "       vigil audit export (RUN | --since DATE) --out FILE --purpose TEXT\n"
      "       vigil audit public-key [--data DIR]\n"
      "       vigil audit rotate-key",
      "verify checks every link, every payload digest that still has its payload (a payload that\n"
      "is gone verifies only under its run's erasure record), every signed checkpoint and key\n"
      "hand-over, that nothing after a checkpoint was cut off, and each run's snapshot and\n"
      "inbox rows against its history. It trusts the public key given with --public-key, else\n"
      "DIR/keys/audit-ed25519.pub.pem, else (for a bundle) the key inside the bundle.\n\n"
      "A store wiped or replaced as a whole is consistent in itself, so verify also holds it to\n"
      "checkpoints kept out of its writer's reach: --checkpoint FILE (one saved checkpoint or the\n"
      "daemon's audit.checkpoint_log), --witness URL (a `vigil witness`; with --witness-key FILE\n"
      "its cosignature must verify) or --config FILE (the daemon's log and witnesses). The store\n"
      "must hold at least as many records as each, with the same tree. When the --config file names\n"
      "a PostgreSQL store (store:), verify reads that database's chain (not the SQLite caches),\n"
      "with the keys and checkpoint log of the data directory it names.\n\n"
      "It prints 'OK <count> records, head <hash>' or 'BAD record N: <problem>: <detail>' where\n"
      "problem is modified, missing, inserted, reordered, truncated, payload removed, bad\n"
      "signature or unsigned, or 'UNUSABLE <problem>: <detail>' for input it cannot use.\n\n"
      "A bundle must also hold every record its signed selection lists (all of a run's records,\n"
      "its reads and disclosures included), and the workflow definitions and area files its\n"
      "runs used, unedited.\n\n"
      "export (auditor) writes a self-contained bundle of one run's records, or of every record\n"
      "since DATE, with inclusion proofs to a checkpoint signed for the export, the signed\n"
      "selection, the public key and the definitions used; `vigil audit verify BUNDLE` checks it\n"
      "on any machine and `vigil replay --bundle BUNDLE` replays its run. The export is itself\n"
      "recorded as a disclosure, so it needs a purpose (--purpose or VIGIL_PURPOSE).\n\n"
      "Exit status of verify: 0 verified against a trust anchor; 1 tampering found; 2 input that\n"
      "cannot be used (missing or unreadable store, file, key or witness; bad arguments); 3\n"
      "verified, but only for internal consistency (no --checkpoint, --witness or --config; a\n"
      "bundle checked against its own key; a format 1 bundle). Other subcommands: 0 done, 1 the\n"
      "server refused, 2 bad arguments.\n",
      runAudit};
}

}  // namespace vigil::daemon

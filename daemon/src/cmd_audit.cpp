// vigil audit verify | export | public-key | rotate-key.
// `verify` works offline, on a data directory or an export bundle, trusting a public key
// from outside what it checks; the others go through the server.
#include <fstream>
#include <iostream>
#include <sstream>

#include "audit/audit_service.h"
#include "cli.h"
#include "client.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {
namespace {

constexpr int kExitBad = 1;

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int report(const AuditVerdict& v, bool asJson) {
  if (asJson) {
    std::cout << json{{"ok", v.ok},           {"records", v.records},       {"head", v.head},
                      {"checkpoints", v.checkpoints}, {"erased_payloads", v.erasedPayloads},
                      {"first_bad", v.firstBad}, {"problem", v.problem}, {"detail", v.detail}}
                     .dump()
              << "\n";
  } else if (v.ok) {
    std::cout << "OK " << v.records << " records, head " << v.head << "\n";
    if (v.erasedPayloads > 0) std::cout << v.erasedPayloads << " payload(s) erased by retention; their digests verify\n";
  } else {
    std::cout << "BAD " << (v.firstBad > 0 ? "record " + std::to_string(v.firstBad) + ": " : std::string()) << v.problem
              << ": " << v.detail << "\n";
  }
  return v.ok ? kExitOk : kExitBad;
}

int verify(CommandContext& ctx) {
  std::string data, bundle, publicKey;
  bool asJson = false;
  po::options_description opts;
  opts.add_options()("data", po::value(&data))("bundle", po::value(&bundle))("public-key", po::value(&publicKey))(
      "json", po::bool_switch(&asJson));
  po::positional_options_description pos;
  pos.add("bundle", 1);
  int rc = kExitOk;
  if (!parseOptions("audit verify", ctx, opts, pos, &rc)) return rc;
  if (data.empty() == bundle.empty()) return usageError("audit verify", "give --data DIR or a BUNDLE file (one of them)");
  std::string trusted;
  if (!publicKey.empty()) {
    auto k = readFile(publicKey);
    if (!k) return usageError("audit verify", "cannot read public key file '" + publicKey + "'");
    trusted = *k;
  }
  if (!data.empty()) {
    if (auto missing = missingDataDir(data)) return usageError("audit verify", *missing);
    if (trusted.empty()) {
      auto k = readFile(AuditPaths::inDataDir(data).publicKey);
      if (!k) return usageError("audit verify", "no public key in " + data + "/keys; give --public-key FILE");
      trusted = *k;
    }
    auto source = openSqliteAuditSource(data);
    if (!source) {
      std::cerr << "vigil audit verify: " << source.status().message() << "\n";
      return kExitBad;
    }
    return report(verifyDataDir(data, **source, trusted), asJson);
  }
  auto text = readFile(bundle);
  if (!text) return usageError("audit verify", "cannot read bundle '" + bundle + "'");
  json b = json::parse(*text, nullptr, false);
  if (b.is_discarded()) {
    std::cout << "BAD unreadable: " << bundle << " is not JSON\n";
    return kExitBad;
  }
  if (trusted.empty()) {
    trusted = b.value("public_key", "");
    std::cerr << "note: trusting the key inside the bundle (id " << keyIdOf(trusted)
              << "); compare it with your force's published key id, or give --public-key FILE\n";
  }
  return report(verifyAuditBundle(b, trusted), asJson);
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
      "vigil audit verify (--data DIR | BUNDLE) [--public-key FILE] [--json]\n"
      "       vigil audit export (RUN | --since DATE) --out FILE --purpose TEXT\n"
      "       vigil audit public-key [--data DIR]\n"
      "       vigil audit rotate-key",
      "verify checks every link, every payload digest that still has its payload, every signed\n"
      "checkpoint and key hand-over, and that nothing after a checkpoint was cut off. It trusts\n"
      "the public key given with --public-key, else DIR/keys/audit-ed25519.pub.pem, else (for a\n"
      "bundle) the key inside the bundle, with a note to compare its id. It prints\n"
      "'OK <count> records, head <hash>' or 'BAD record N: <problem>: <detail>' where problem is\n"
      "modified, missing, inserted, reordered, truncated, bad signature, unsigned or unreadable.\n\n"
      "export (auditor) writes a self-contained bundle of one run's records, or of every record\n"
      "since DATE, with inclusion proofs to a checkpoint signed for the export, the public key\n"
      "and the workflow definitions used; `vigil audit verify BUNDLE` checks it on any machine.\n"
      "The export is itself recorded as a disclosure, so it needs a purpose (--purpose or\n"
      "VIGIL_PURPOSE).\n\n"
      "Exit status: 0 verified (or done); 1 verification failed or the server refused; 2 bad\n"
      "arguments.\n",
      runAudit};
}

}  // namespace vigil::daemon

// vigil replay: rebuild a run's decisions from its recorded history (calling nothing) and
// say whether they come out identical; or, with --since, replay many past runs against a
// new workflow version and list the decisions that would change.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "client.h"
#include "vigil/audit.h"
#include "vigil/chained_events.h"
#include "vigil/loader.h"
#include "vigil/replay.h"
#include "vigil/store.h"
#include "area_file.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {
namespace {

std::shared_ptr<const Workflow> loadFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read '" + path + "'";
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  LoadResult r = loadWorkflow(ss.str(), path);
  if (!r.ok()) {
    for (const auto& d : r.diagnostics) *error += d.format() + "\n";
    return nullptr;
  }
  return r.workflow;
}

// A member of one of a bundle's objects, or null. What no signature covers (the key, the
// query) may be any JSON at all, and so may the kept sources of a format 1 bundle.
json memberOf(const json& j, const std::string& key) { return j.is_object() && j.contains(key) ? j[key] : json(); }
std::string textOf(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

json resultJson(const std::string& run, const ReplayResult& r) {
  return {{"id", run},
          {"identical", r.identical},
          {"complete", r.complete},
          {"diverged_at", r.divergedAt},
          {"recorded", r.expected},
          {"replayed", r.got},
          {"note", r.note},
          {"recorded_decisions", r.recordedDecisions},
          {"replayed_decisions", r.replayedDecisions}};
}

// The area (calendars, timescales) the run recorded at its start, as kept in DATA/areas;
// none when it ran without one.
Result<std::shared_ptr<const Area>> areaOf(const std::string& data, const std::vector<Event>& events) {
  if (events.empty() || !events.front().data.contains("area")) return std::shared_ptr<const Area>();
  return keptArea(data, events.front().data.value("area", ""));
}

int printReplay(const std::string& run, const ReplayResult& r, bool asJson);

int replayOne(Store& store, const std::string& data, const std::string& run, std::shared_ptr<const Workflow> override, bool asJson) {
  auto state = store.runs().load(run);
  if (!state || !state->has_value()) {
    std::cerr << "vigil replay: no run " << run << " in this data directory\n";
    return kExitFailure;
  }
  auto events = store.runs().events(run);
  if (!events) {
    std::cerr << "vigil replay: " << events.status().message() << "\n";
    return kExitFailure;
  }
  std::shared_ptr<const Workflow> wf = override;
  if (!wf) {
    auto source = store.workflows().source((*state)->workflowHash);
    LoadResult loaded = source ? loadWorkflow(*source, (*state)->workflow + ".yaml") : LoadResult{};
    if (!source || !loaded.ok()) {
      std::cerr << "vigil replay: the definition run " << run << " pinned cannot be loaded\n";
      return kExitFailure;
    }
    wf = loaded.workflow;
  }
  auto area = areaOf(data, *events);
  if (!area) {
    std::cerr << "vigil replay: " << area.status().message() << "\n";
    return kExitFailure;
  }
  return printReplay(run, replayRun(run, *events, wf, *area), asJson);
}

// A run from an export bundle: its chained events, and the definition and area it started
// with as the bundle keeps them, once the bundle has verified.
int replayBundle(const std::string& path, std::string run, const std::string& publicKey,
                 std::shared_ptr<const Workflow> override, bool asJson) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return usageError("replay", "cannot read bundle '" + path + "'");
  json b = json::parse(text.str(), nullptr, false);
  if (!b.is_object()) {
    std::cerr << "vigil replay: " << path << " is not an audit bundle (not a JSON object)\n";
    return kExitUsage;
  }
  std::string trusted = textOf(memberOf(b, "public_key"));
  if (!publicKey.empty()) {
    std::ifstream k(publicKey, std::ios::binary);
    std::stringstream pem;
    pem << k.rdbuf();
    if (!k) return usageError("replay", "cannot read public key file '" + publicKey + "'");
    trusted = pem.str();
  }
  AuditVerdict v = verifyAuditBundle(b, trusted);
  if (!v.ok) {
    std::cerr << "vigil replay: the bundle does not verify: " << v.problem << ": " << v.detail << "\n";
    return kExitFailure;
  }
  if (run.empty()) run = textOf(memberOf(memberOf(b, "query"), "run"));
  if (run.empty()) return usageError("replay", "this bundle is of every record since a time: give the RUN to replay");
  ChainedEvents events(run);
  std::string workflowHash, areaHash;
  for (const auto& rj : b["records"]) {
    auto r = auditRecordFromJson(rj.value("record", json()));
    if (!r || r->entry.runId != run) continue;
    if (workflowHash.empty()) std::tie(workflowHash, areaHash) = startedWith(*r);
    if (Status s = events.add(r->entry.kind, r->payloadText); !s) {
      std::cerr << "vigil replay: " << s.message() << "\n";
      return kExitFailure;
    }
  }
  std::vector<Event> history = events.take();
  if (history.empty()) {
    std::cerr << "vigil replay: the bundle holds no history of run " << run << " (erased, hidden from the exporter, or another run)\n";
    return kExitFailure;
  }
  std::shared_ptr<const Workflow> wf = override;
  if (!wf) {
    const json source = memberOf(memberOf(b, "workflows"), workflowHash);
    LoadResult loaded = source.is_string() ? loadWorkflow(source.get<std::string>(), "bundle:" + workflowHash.substr(0, 16)) : LoadResult{};
    if (!loaded.ok()) {
      std::cerr << "vigil replay: the bundle does not hold the definition run " << run << " started with\n";
      return kExitFailure;
    }
    wf = loaded.workflow;
  }
  std::shared_ptr<const Area> area;
  if (!areaHash.empty()) {
    const json areaText = memberOf(memberOf(b, "areas"), areaHash);
    auto loaded = areaText.is_string() ? loadAreaText(areaText.get<std::string>(), "bundle:area " + areaHash.substr(0, 16))
                                       : Result<std::shared_ptr<const Area>>(Status::notFound("the bundle lacks the area file the run used"));
    if (!loaded) {
      std::cerr << "vigil replay: " << loaded.status().message() << "\n";
      return kExitFailure;
    }
    area = *loaded;
  }
  return printReplay(run, replayRun(run, history, wf, area), asJson);
}

int printReplay(const std::string& run, const ReplayResult& r, bool asJson) {
  if (asJson) {
    std::cout << resultJson(run, r).dump() << "\n";
  } else if (r.identical) {
    std::cout << run << " identical (" << r.replayed.size() << " events)\n";
  } else if (!r.complete && r.replayed.empty()) {
    std::cout << run << " not replayed: " << r.note << "\n";
  } else {
    std::cout << run << " diverges at event " << r.divergedAt << "\n"
              << "  recorded: " << (r.expected.empty() ? "(nothing)" : r.expected) << "\n"
              << "  replayed: " << (r.got.empty() ? "(nothing)" : r.got) << "\n";
    if (!r.note.empty()) std::cout << "  note: " << r.note << "\n";
  }
  return r.identical ? kExitOk : kExitFailure;
}

int whatIf(Store& store, const std::string& data, std::shared_ptr<const Workflow> wf, const std::string& name, TimePoint since, bool asJson) {
  RunFilter f;
  f.workflow = name;
  f.limit = 1000;
  size_t replayed = 0, changed = 0, incomplete = 0;
  json changes = json::array();
  for (int page = 0; page < 10000; ++page) {
    auto runs = store.runs().list(f);
    if (!runs) {
      std::cerr << "vigil replay: " << runs.status().message() << "\n";
      return kExitFailure;
    }
    for (const auto& s : *runs) {
      if (s.startedAt < since || s.id.find('.') != std::string::npos) continue;  // sub-runs replay with their parent
      auto events = store.runs().events(s.id);
      if (!events) continue;
      auto area = areaOf(data, *events);
      if (!area) {
        std::cerr << "vigil replay: " << s.id << ": " << area.status().message() << "\n";
        return kExitFailure;
      }
      ReplayResult r = replayRun(s.id, *events, wf, *area);
      ++replayed;
      if (!r.complete) ++incomplete;
      for (const auto& [step, rec] : r.recordedDecisions) {
        auto it = r.replayedDecisions.find(step);
        json now = it == r.replayedDecisions.end() ? json() : it->second;
        if (now != rec) {
          ++changed;
          changes.push_back({{"run", s.id}, {"step", step}, {"recorded", rec}, {"replayed", now}});
        }
      }
    }
    if (runs->size() < f.limit) break;
    f.after = runs->back().id;
  }
  if (asJson) {
    std::cout << json{{"replayed", replayed}, {"changed", changed}, {"incomplete", incomplete}, {"changes", changes}}.dump() << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(32) << "RUN" << std::setw(16) << "STEP" << "RECORDED -> REPLAYED\n";
  auto band = [](const json& d) {
    if (d.is_null()) return std::string("(not reached)");
    std::ostringstream score;
    if (d["score"].is_number()) {
      score << d["score"].get<double>();  // 5, not 5.0
    } else {
      score << d["score"].dump();
    }
    return (d["band"].is_string() ? d["band"].get<std::string>() : std::string("-")) + " (" + score.str() + ")";
  };
  for (const auto& c : changes) {
    std::cout << std::left << std::setw(32) << c["run"].get<std::string>() << std::setw(16) << c["step"].get<std::string>()
              << band(c["recorded"]) << " -> " << band(c["replayed"]) << "\n";
  }
  std::cout << replayed << " run(s) replayed against " << wf->name << " version " << wf->version << "; " << changed
            << " decision(s) would change";
  if (incomplete > 0) std::cout << "; " << incomplete << " run(s) needed answers the history does not hold";
  std::cout << "\n";
  return kExitOk;
}

int runReplay(CommandContext& ctx) {
  std::string run, data, file, since, name, bundle, publicKey;
  bool asJson = false;
  po::options_description opts;
  opts.add_options()("run", po::value(&run))("data", po::value(&data))("workflow", po::value(&file))(
      "since", po::value(&since))("workflow-name", po::value(&name))("bundle", po::value(&bundle))(
      "public-key", po::value(&publicKey))("json", po::bool_switch(&asJson));
  po::positional_options_description pos;
  pos.add("run", 1);
  int rc = kExitOk;
  if (!parseOptions("replay", ctx, opts, pos, &rc)) return rc;
  if (data.empty() == bundle.empty()) {
    return usageError("replay", "give --data DIR or --bundle FILE (replay reads a data directory or an export bundle, writing nothing)");
  }
  if (!bundle.empty() && !since.empty()) return usageError("replay", "--since replays runs of a data directory, not of a bundle");
  if (bundle.empty() && run.empty() == since.empty()) return usageError("replay", "give a RUN, or --since DATE with --workflow FILE");
  std::shared_ptr<const Workflow> wf;
  if (!file.empty()) {
    std::string error;
    wf = loadFile(file, &error);
    if (!wf) {
      std::cerr << error;
      return kExitUsage;
    }
  }
  if (!bundle.empty()) return replayBundle(bundle, run, publicKey, wf, asJson);
  // openSqliteStore creates what is missing; replay must not leave an empty store behind
  // a mistyped path.
  if (auto missing = missingDataDir(data)) return usageError("replay", *missing);
  auto store = openSqliteStore(data);
  if (!store) {
    std::cerr << "vigil replay: " << store.status().message() << "\n";
    return kExitFailure;
  }
  if (!run.empty()) return replayOne(**store, data, run, wf, asJson);
  if (!wf) return usageError("replay", "--since needs --workflow FILE (the version to try)");
  auto t = parseTime(since.size() == 10 ? since + "T00:00:00Z" : since);
  if (!t) return usageError("replay", "--since must be a date (2026-11-01) or a UTC time");
  return whatIf(**store, data, wf, name.empty() ? wf->name : name, *t, asJson);
}

}  // namespace

Command replayCommand() {
  return Command{"replay", "Replay runs from their recorded history: identical, or what a new version would decide",
                 "vigil replay RUN --data DIR [--workflow FILE] [--json]\n"
                 "       vigil replay [RUN] --bundle FILE [--public-key FILE] [--workflow FILE] [--json]\n"
                 "       vigil replay --since DATE --workflow FILE --data DIR [--workflow-name W] [--json]",
                 "With RUN: feeds the run's recorded inputs (connector results, timers, people's decisions)\n"
                 "to the definition it pinned (or FILE) at their recorded times, calling nothing, and\n"
                 "prints 'identical' or the first event that differs, recorded and replayed. Exit 0 when\n"
                 "identical, 1 when not.\n\n"
                 "With --since: replays every run of the workflow started since DATE against FILE (a new\n"
                 "version) and lists each decide step whose band or score would change, for example\n"
                 "GREEN (1) -> AMBER (4), so a rule change can be tried on history before publishing.\n"
                 "A run whose new version asks a system something the history never asked stops there\n"
                 "and is counted as incomplete.\n\n"
                 "With --bundle: the same for a run of an export bundle, once the bundle verifies (against\n"
                 "--public-key, else the key inside it), with the definition and area file it keeps.\n\n"
                 "Works offline on a data directory; it writes nothing. A DIR that does not exist or\n"
                 "holds no store is refused (exit 2), and nothing is created there.\n",
                 runReplay};
}

}  // namespace vigil::daemon

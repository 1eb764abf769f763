// Client subcommands over the API: vigil run, runs, show, cancel.
// Server from --server or VIGIL_SERVER (default http://127.0.0.1:8470), token from
// VIGIL_TOKEN, purpose for reads from --purpose or VIGIL_PURPOSE.
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "client.h"
#include "http/http_client.h"
#include "vigil/clock.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {
namespace {

int runRun(CommandContext& ctx) {
  ClientOptions c;
  std::string workflow, input = "{}";
  bool wait = false;
  int timeoutSec = 300;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("workflow", po::value(&workflow))("input", po::value(&input))("wait", po::bool_switch(&wait))(
      "timeout", po::value(&timeoutSec));
  po::positional_options_description pos;
  pos.add("workflow", 1);
  int rc = kExitOk;
  if (!parseOptions("run", ctx, opts, pos, &rc)) return rc;
  if (workflow.empty()) return usageError("run", "name the workflow to run");
  if (!input.empty() && input[0] == '@') {
    std::ifstream in(input.substr(1));
    if (!in) return usageError("run", "cannot read input file '" + input.substr(1) + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    input = ss.str();
  }
  json inputs = json::parse(input, nullptr, false);
  if (inputs.is_discarded() || !inputs.is_object()) return usageError("run", "--input must be a JSON object or @FILE holding one");
  auto started = call("run", c, "POST", "/api/v1/runs", json{{"workflow", workflow}, {"inputs", inputs}}.dump(), &rc);
  if (!started) return rc;
  std::string id = (*started)["id"];
  if (!wait) {
    if (c.asJson) {
      std::cout << started->dump() << "\n";
    } else {
      std::cout << id << "\n";
    }
    return kExitOk;
  }
  if (c.purpose.empty()) c.purpose = "following a run I started";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSec);
  while (std::chrono::steady_clock::now() < deadline) {
    auto run = call("run", c, "GET", "/api/v1/runs/" + urlEncode(id), "", &rc);
    if (!run) return rc;
    std::string status = (*run)["status"];
    if (status == "completed" || status == "failed" || status == "cancelled") {
      if (c.asJson) {
        std::cout << json{{"id", id}, {"status", status}, {"outputs", (*run)["outputs"]}, {"error", (*run)["error"]}}.dump() << "\n";
      } else {
        std::cout << id << " " << status << "\n";
        if (!(*run)["error"].is_null()) std::cout << "error: " << (*run)["error"].value("message", "") << "\n";
      }
      return status == "completed" ? kExitOk : kExitFailure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::cerr << "vigil run: " << id << " has not finished after " << timeoutSec << " s; it goes on (vigil show " << id << ")\n";
  return kExitFailure;
}

int runRuns(CommandContext& ctx) {
  ClientOptions c;
  std::string status, workflow, after;
  int limit = 50;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("status", po::value(&status))("workflow", po::value(&workflow))("after", po::value(&after))(
      "limit", po::value(&limit));
  po::positional_options_description pos;
  int rc = kExitOk;
  if (!parseOptions("runs", ctx, opts, pos, &rc)) return rc;
  std::string target = "/api/v1/runs?limit=" + std::to_string(limit);
  if (!status.empty()) target += "&status=" + urlEncode(status);
  if (!workflow.empty()) target += "&workflow=" + urlEncode(workflow);
  if (!after.empty()) target += "&after=" + urlEncode(after);
  auto r = call("runs", c, "GET", target, "", &rc);
  if (!r) return rc;
  if (c.asJson) {
    std::cout << r->dump() << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(30) << "ID" << std::setw(11) << "STATUS" << std::setw(22) << "WORKFLOW"
            << std::setw(16) << "STARTED BY" << "STARTED AT\n";
  for (const auto& run : (*r)["items"]) {
    std::cout << std::left << std::setw(30) << run["id"].get<std::string>() << std::setw(11)
              << run["status"].get<std::string>() << std::setw(22) << run["workflow"].get<std::string>() << std::setw(16)
              << run["started_by"].get<std::string>() << run["started_at"].get<std::string>() << "\n";
  }
  if (r->contains("next")) std::cout << "more: vigil runs --after " << (*r)["next"].get<std::string>() << "\n";
  return kExitOk;
}

// A time in the run's JSON (milliseconds since the epoch, 0 for none) as text.
std::string timeText(long long ms) {
  return ms == 0 ? "-" : formatTime(TimePoint(std::chrono::milliseconds(ms)));
}

// The run's steps in the order they ran: by start time, then by the first event naming
// the step, since steps that run in one transition share a millisecond; steps not reached
// yet come last. A step that failed without starting (a pure step such as `set`) started
// when it failed; a skipped step never started, and sorts by when it was skipped. A step's
// error is printed under it, said to be handled when on_error took it.
void printSteps(const json& run) {
  static const json kNone = json::object();
  const json& events = run.contains("events") && run["events"].is_array() ? run["events"] : kNone;
  const json& steps = run.contains("steps") && run["steps"].is_object() ? run["steps"] : kNone;
  struct First {
    uint64_t seq;
    long long time;
  };
  std::map<std::string, First> first;
  for (const auto& e : events) {
    if (e.contains("step") && e["step"].is_string() && e["seq"].is_number_integer() && e["time"].is_number_integer()) {
      first.emplace(e["step"].get<std::string>(), First{e["seq"].get<uint64_t>(), e["time"].get<long long>()});
    }
  }
  struct Row {
    bool later;  // not reached yet
    long long at;
    uint64_t seq;
    std::string key;
    const json* step;
    long long started;
    long long finished;
  };
  std::vector<Row> rows;
  for (auto it = steps.begin(); it != steps.end(); ++it) {
    const json& st = it.value();
    auto number = [&](const char* f) { return st.contains(f) && st[f].is_number_integer() ? st[f].get<long long>() : 0LL; };
    auto f = first.find(it.key());
    long long started = number("started_at");
    const long long finished = number("finished_at");
    if (started == 0 && f != first.end() && st.value("status", "") != "skipped") started = f->second.time;
    const long long at = started != 0 ? started : finished;
    const bool later = at == 0 && f == first.end();
    rows.push_back({later, at == 0 ? LLONG_MAX : at, f == first.end() ? UINT64_MAX : f->second.seq, it.key(), &st,
                    started, finished});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.later, a.at, a.seq, a.key) < std::tie(b.later, b.at, b.seq, b.key);
  });
  std::cout << "steps, in the order they ran:\n"
            << "  " << std::left << std::setw(28) << "STEP" << std::setw(11) << "STATUS" << std::setw(26) << "STARTED"
            << "FINISHED\n";
  for (const auto& row : rows) {
    const json& st = *row.step;
    std::cout << "  " << std::left << std::setw(28) << row.key << std::setw(11) << st.value("status", "?") << std::setw(26)
              << timeText(row.started) << timeText(row.finished) << "\n";
    if (st.contains("error") && st["error"].is_object()) {
      const json& e = st["error"];
      std::cout << "      " << (st.value("handled", false) ? "error (handled by on_error): " : "error: ")
                << e.value("code", "error") << ": " << e.value("message", e.dump()) << "\n";
    }
  }
}

int runShow(CommandContext& ctx) {
  ClientOptions c;
  std::string id;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("id", po::value(&id));
  po::positional_options_description pos;
  pos.add("id", 1);
  int rc = kExitOk;
  if (!parseOptions("show", ctx, opts, pos, &rc)) return rc;
  if (id.empty()) return usageError("show", "name the run to show");
  auto r = call("show", c, "GET", "/api/v1/runs/" + urlEncode(id), "", &rc);
  if (!r) return rc;
  if (c.asJson) {
    std::cout << r->dump() << "\n";
    return kExitOk;
  }
  std::cout << "run " << id << "  " << (*r)["status"].get<std::string>() << "\n"
            << "workflow " << (*r)["workflow"].get<std::string>() << " version " << (*r)["version"] << "\n"
            << "started by " << (*r)["started_by"].get<std::string>() << "\n";
  if (!(*r)["error"].is_null()) std::cout << "error: " << (*r)["error"].dump() << "\n";
  printSteps(*r);
  std::cout << "events:\n";
  for (const auto& e : (*r)["events"]) {
    std::cout << "  " << std::setw(5) << e["seq"].get<long>() << std::setw(20) << e["type"].get<std::string>()
              << e.value("step", "") << "\n";
  }
  return kExitOk;
}

int runCancel(CommandContext& ctx) {
  ClientOptions c;
  std::string id, reason;
  bool confirm = false, decline = false;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("id", po::value(&id))("reason", po::value(&reason))("confirm", po::bool_switch(&confirm))(
      "decline", po::bool_switch(&decline));
  po::positional_options_description pos;
  pos.add("id", 1);
  int rc = kExitOk;
  if (!parseOptions("cancel", ctx, opts, pos, &rc)) return rc;
  if (id.empty() || reason.empty()) return usageError("cancel", "give the run and --reason");
  if (confirm && decline) return usageError("cancel", "--confirm and --decline are opposite answers: give one");
  const std::string base = "/api/v1/runs/" + urlEncode(id);
  auto r = confirm || decline
               ? call("cancel", c, "POST", base + "/cancellation",
                      json{{"decision", confirm ? "confirm" : "decline"}, {"reason", reason}}.dump(), &rc)
               : call("cancel", c, "POST", base + "/cancel", json{{"reason", reason}}.dump(), &rc);
  if (!r) return rc;
  if (c.asJson) {
    std::cout << r->dump() << "\n";
  } else if ((*r)["status"] == "cancellation_requested") {
    std::string roles;
    for (const auto& x : (*r)["confirm_by"]) roles += (roles.empty() ? "" : ", ") + x.get<std::string>();
    std::cout << "cancellation of " << id << " requested; the run carries on until someone holding " << roles
              << " confirms it (vigil cancel " << id << " --confirm --reason ...)\n";
  } else if ((*r)["status"] == "cancellation_declined") {
    std::cout << "cancellation of " << id << " declined; the run carries on\n";
  } else {
    std::cout << id << " cancelled\n";
  }
  return kExitOk;
}

int runPublish(CommandContext& ctx) {
  ClientOptions c;
  std::vector<std::string> files;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("file", po::value(&files));
  po::positional_options_description pos;
  pos.add("file", -1);
  int rc = kExitOk;
  if (!parseOptions("publish", ctx, opts, pos, &rc)) return rc;
  if (files.empty()) return usageError("publish", "name at least one workflow file");
  std::string token = env("VIGIL_TOKEN");
  if (token.empty()) {
    std::cerr << "vigil publish: set VIGIL_TOKEN to your API token (see 'vigil help users')\n";
    return kExitUsage;
  }
  auto client = HttpClient::create(c.server, c.caFile);
  if (!client) return usageError("publish", client.status().message());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::cerr << f << ":1:1: error: cannot open file\n";
      rc = kExitFailure;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = client->send("POST", "/api/v1/workflows", {{"Authorization", "Bearer " + token}},
                          json{{"source", ss.str()}, {"file", f}}.dump(-1, ' ', false, json::error_handler_t::replace));
    if (!r) {
      std::cerr << "vigil publish: " << r.status().message() << "\n";
      return kExitFailure;
    }
    json j = json::parse(r->body, nullptr, false);
    if (r->status == 422 && j.is_object() && j.contains("diagnostics")) {
      for (const auto& d : j["diagnostics"]) {
        std::cerr << f << ":" << d["line"] << ":" << d["column"] << ": error: " << d["message"].get<std::string>() << "\n";
      }
      rc = kExitFailure;
      continue;
    }
    if (r->status >= 400 || j.is_discarded()) {
      std::string msg = !j.is_discarded() && j.contains("error") ? j["error"].value("message", "") : "unexpected answer";
      std::cerr << "vigil publish: " << f << ": " << msg << " (HTTP " << r->status << ")\n";
      rc = kExitFailure;
      continue;
    }
    if (c.asJson) {
      std::cout << j.dump() << "\n";
    } else {
      std::cout << f << ": " << (j.value("published", false) ? "published " : "already published ") << j["name"].get<std::string>()
                << " version " << j["version"] << " (sha256 " << j["sha256"].get<std::string>().substr(0, 16) << ")\n";
    }
  }
  return rc;
}

}  // namespace

Command runCommand() {
  return Command{"run", "Start a run of a workflow (through the server)",
                 "vigil run WORKFLOW [--input JSON|@FILE] [--wait [--timeout SECONDS]] [--json] [--server URL]",
                 std::string("Starts a run and prints its id. With --wait, follows it until it ends and exits\n"
                             "0 only if it completed.\n\n") + kClientHelp,
                 runRun};
}

Command runsCommand() {
  return Command{"runs", "List runs (through the server)",
                 "vigil runs [--status S] [--workflow W] [--limit N] [--after ID] [--json] [--purpose TEXT]",
                 std::string("Lists runs, oldest id first, a page at a time.\n\n") + kClientHelp, runRuns};
}

Command showCommand() {
  return Command{"show", "Show one run: status, steps and its event history (through the server)",
                 "vigil show RUN [--json] [--purpose TEXT]",
                 std::string("Lists the run's steps in the order they ran, with their start and finish times\n"
                             "(UTC), and under a step the error it failed with, also when on_error handled it;\n"
                             "then every event. --json prints the run as the API returns it.\n\n") + kClientHelp,
                 runShow};
}

Command publishCommand() {
  return Command{"publish", "Validate and publish new workflow versions (through the server)",
                 "vigil publish FILE... [--json] [--server URL]",
                 std::string("Sends each FILE to the server, which validates it against the workflows it runs\n"
                             "and publishes it. Problems print as FILE:LINE:COL: error: MESSAGE. A version\n"
                             "already published with the same content is not an error.\n\n") + kClientHelp,
                 runPublish};
}

Command cancelCommand() {
  return Command{"cancel", "Ask for a run to be cancelled, or confirm or decline such a request (through the server)",
                 "vigil cancel RUN --reason TEXT [--confirm | --decline] [--json]",
                 std::string("Without --confirm or --decline, asks for RUN to be cancelled (operator). Unless its\n"
                             "workflow says `cancel: single`, the run carries on until a second person holding\n"
                             "the workflow's owner role confirms (--confirm) or declines (--decline) the request;\n"
                             "the request is in their inbox as RUN/!cancel. Reasons: at least 10 characters.\n\n") +
                     kClientHelp,
                 runCancel};
}

}  // namespace vigil::daemon

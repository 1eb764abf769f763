// Approval subcommands over the API: vigil approvals, approve, reject, decide, claim, reassign.
// A task is named RUN/STEP, as `vigil approvals` lists it.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "client.h"
#include "vigil/duration.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {
namespace {

// "RUN/STEP" -> "/api/v1/approvals/RUN/STEP" with each part encoded; "" if malformed.
std::string taskPath(const std::string& task) {
  size_t slash = task.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == task.size()) return "";
  return "/api/v1/approvals/" + urlEncode(task.substr(0, slash)) + "/" + urlEncode(task.substr(slash + 1));
}

void printShown(const json& t, std::ostream& out = std::cout) {
  // The step's summary line first: what a supervisor must see before anything else
  // ("IDENTITY UNVERIFIED: ...").
  if (t.value("summary", "") != "") out << t["summary"].get<std::string>() << "\n";
  out << "task " << t["id"].get<std::string>() << "  " << t["status"].get<std::string>() << "\n"
            << "workflow " << t["workflow"].get<std::string>() << " version " << t["version"] << ", step "
            << t["step"].get<std::string>() << "\n";
  if (!t["recommendation"].is_null()) out << "recommendation: " << t["recommendation"].dump() << "\n";
  out << "options:";
  for (const auto& o : t["options"]) out << " " << o.get<std::string>();
  out << "\nshown:\n";
  for (auto it = t["show"].begin(); it != t["show"].end(); ++it) {
    out << "  " << it.key() << ": " << it.value().dump() << "\n";
  }
  for (const auto& v : t["votes"]) {
    out << "vote: " << v["decided_by"].get<std::string>() << " " << v["decision"].get<std::string>() << "\n";
  }
}

// The whole inbox, page after page (most urgent first), so no task is left off the list;
// bounded at 200 pages of 500.
int listInbox(const ClientOptions& c, const std::string& path) {
  int rc = kExitOk;
  nlohmann::json items = nlohmann::json::array();
  long long total = 0;
  std::string cursor;
  for (int page = 0; page < 200; ++page) {
    auto r = call("approvals", c, "GET", path + "&limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor), "", &rc);
    if (!r) return rc;
    total = (*r).value("total", 0LL);
    for (auto& t : (*r)["items"]) items.push_back(std::move(t));
    if (!r->contains("next_cursor")) break;
    cursor = (*r)["next_cursor"].get<std::string>();
  }
  if (c.asJson) {
    std::cout << nlohmann::json{{"items", items}, {"total", total}}.dump() << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(40) << "TASK" << std::setw(9) << "STATUS" << std::setw(22) << "DUE"
            << std::setw(14) << "CLAIMED BY" << "SUMMARY\n";
  for (const auto& t : items) {
    std::string due = t["due"].is_null() ? "-" : t["due"].get<std::string>() + (t["overdue"].get<bool>() ? "!" : "");
    std::string summary = t.value("summary", "");
    if (summary.empty()) summary = t["workflow"].get<std::string>();
    std::cout << std::left << std::setw(40) << t["id"].get<std::string>() << std::setw(9) << t["status"].get<std::string>()
              << std::setw(22) << due << std::setw(14) << t.value("claimed_by", "-") << summary << "\n";
  }
  std::cout << items.size() << " of " << total << " task" << (total == 1 ? "" : "s") << "\n";
  return kExitOk;
}

// "N (P%)"
std::string countAndShare(long long n, double share) {
  std::ostringstream out;
  out << n << " (" << std::fixed << std::setprecision(0) << share * 100 << "%)";
  return out.str();
}

// The report's people and rules: override rate, and decisions taken within the quick
// threshold of opening the task (of those whose opening is recorded), and how many with --yes.
void printDecisions(const json& r) {
  const std::string quick = "QUICK (<=" + std::to_string(r.value("quick_decision_seconds", 0LL)) + " s)";
  auto line = [&](const std::string& who, const json& d) {
    std::cout << std::left << std::setw(40) << who << std::setw(11) << d["decisions"].get<long long>() << std::setw(13)
              << countAndShare(d["overridden"].get<long long>(), d["override_rate"].get<double>()) << std::setw(18)
              << countAndShare(d["quick"].get<long long>(), d["quick_share"].get<double>()) << std::setw(7)
              << d["yes_flag"].get<long long>() << std::fixed << std::setprecision(1)
              << d["mean_seconds_from_opening"].get<double>() << " s\n";
  };
  auto header = [&](const std::string& first) {
    std::cout << "\n" << std::left << std::setw(40) << first << std::setw(11) << "DECISIONS" << std::setw(13) << "OVERRIDES"
              << std::setw(18) << quick << std::setw(7) << "--YES" << "MEAN FROM OPENING\n";
  };
  header("APPROVER");
  for (const auto& a : r.value("approvers", json::array())) line(a["user"].get<std::string>(), a);
  header("RULE (WORKFLOW/STEP, RECOMMENDED)");
  for (const auto& s : r.value("rules", json::array())) {
    const std::string rule = s["workflow"].get<std::string>() + "/" + s["step"].get<std::string>();
    line(rule, s);
    for (const auto& b : s["by_recommendation"]) {
      line("  " + (b["recommendation"].is_null() ? std::string("(none)") : b["recommendation"].get<std::string>()), b);
    }
  }
}

int runApprovals(CommandContext& ctx) {
  ClientOptions c;
  std::string status = "open", task;
  std::string since, workflow, band, assigned;
  bool report = false, late = false, overdue = false;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("status", po::value(&status))("report", po::bool_switch(&report))("late", po::bool_switch(&late))(
      "since", po::value(&since))("workflow", po::value(&workflow))("task", po::value(&task))("band", po::value(&band))(
      "overdue", po::bool_switch(&overdue))("assigned", po::value(&assigned));
  po::positional_options_description pos;
  pos.add("task", 1);
  int rc = kExitOk;
  if (!parseOptions("approvals", ctx, opts, pos, &rc)) return rc;
  if (!task.empty()) {
    std::string path = taskPath(task);
    if (path.empty()) return usageError("approvals", "a task is named RUN/STEP");
    auto t = call("approvals", c, "GET", path, "", &rc);
    if (!t) return rc;
    if (c.asJson) {
      std::cout << t->dump() << "\n";
    } else {
      printShown(*t);
    }
    return kExitOk;
  }
  if (report && late) return usageError("approvals", "--report and --late are different reports: give one");
  if (!late && !since.empty()) return usageError("approvals", "--since goes with --late");
  if ((report || late) && (!band.empty() || overdue || !assigned.empty())) {
    return usageError("approvals", "--band, --overdue and --assigned filter the inbox, not the reports");
  }
  std::string path = "/api/v1/approvals?status=" + urlEncode(status);
  if (!workflow.empty()) path += "&workflow=" + urlEncode(workflow);
  if (!band.empty()) path += "&band=" + urlEncode(band);
  if (overdue) path += "&overdue=true";
  if (!assigned.empty()) path += "&assigned=" + urlEncode(assigned);
  if (report) path = "/api/v1/approvals/report";
  if (late) {
    path = "/api/v1/reports/late-decisions?limit=10000";
    if (!since.empty()) path += "&since=" + urlEncode(since);
    if (!workflow.empty()) path += "&workflow=" + urlEncode(workflow);
  }
  if (!report && !late) return listInbox(c, path);
  auto r = call("approvals", c, "GET", path, "", &rc);
  if (!r) return rc;
  if (c.asJson) {
    std::cout << r->dump() << "\n";
    return kExitOk;
  }
  if (late) {
    std::cout << std::left << std::setw(40) << "TASK" << std::setw(20) << "WORKFLOW" << std::setw(26) << "DUE"
              << std::setw(26) << "DECIDED" << "LATE BY\n";
    for (const auto& t : (*r)["items"]) {
      std::string decided = t.value("decided_at", nlohmann::json()).is_string() ? t["decided_at"].get<std::string>() : "(open)";
      std::cout << std::left << std::setw(40) << t["id"].get<std::string>() << std::setw(20) << t["workflow"].get<std::string>()
                << std::setw(26) << t["due"].get<std::string>() << std::setw(26) << decided
                << formatDuration(std::chrono::seconds(t["late_seconds"].get<long long>())) << "\n";
    }
    std::cout << (*r)["items"].size() << " late as of " << (*r)["as_of"].get<std::string>() << "\n";
    return kExitOk;
  }
  if (report) {
    std::cout << std::left << std::setw(22) << "WORKFLOW" << std::setw(18) << "STEP" << std::setw(9) << "DECIDED"
              << std::setw(11) << "OVERRIDES" << std::setw(7) << "OPEN" << std::setw(9) << "OVERDUE" << "MEAN TIME TO DECIDE\n";
    for (const auto& s : (*r)["steps"]) {
      std::ostringstream rate;
      rate << s["overridden"].get<long long>() << " (" << std::fixed << std::setprecision(0)
           << s["override_rate"].get<double>() * 100 << "%)";
      std::cout << std::left << std::setw(22) << s["workflow"].get<std::string>() << std::setw(18)
                << s["step"].get<std::string>() << std::setw(9) << s["decided"].get<long long>() << std::setw(11)
                << rate.str() << std::setw(7) << s["open"].get<long long>() << std::setw(9)
                << s["overdue"].get<long long>() << std::fixed << std::setprecision(0)
                << s["mean_seconds_to_decision"].get<double>() << " s\n";
    }
    printDecisions(*r);
    return kExitOk;
  }
  return kExitOk;
}

// Asks on the terminal; true only for "y" or "yes" (any case, surrounding blanks ignored).
bool confirmedAtPrompt(const std::string& decision, std::ostream& out) {
  out << "Decide " << decision << " on this task? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  answer.erase(0, answer.find_first_not_of(" \t\r"));
  answer.erase(answer.find_last_not_of(" \t\r") + 1);
  std::transform(answer.begin(), answer.end(), answer.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return answer == "y" || answer == "yes";
}

// approve, reject and decide: open the task (recording what was shown), show it and ask
// (unless --yes), then decide on it, saying in the request which of the two it was.
int decideTask(const std::string& cmd, CommandContext& ctx, std::string decision) {
  ClientOptions c;
  std::string task, reason, rating, form = "{}";
  bool yes = false;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("task", po::value(&task))("decision", po::value(&decision))("reason", po::value(&reason))(
      "rating", po::value(&rating))("form", po::value(&form))("yes", po::bool_switch(&yes));
  po::positional_options_description pos;
  pos.add("task", 1);
  if (decision.empty()) pos.add("decision", 1);
  int rc = kExitOk;
  if (!parseOptions(cmd, ctx, opts, pos, &rc)) return rc;
  std::string path = taskPath(task);
  if (path.empty()) return usageError(cmd, "name the task as RUN/STEP (see 'vigil approvals')");
  if (decision.empty()) return usageError(cmd, "name the option to decide");
  json formJson = json::parse(form, nullptr, false);
  if (formJson.is_discarded() || !formJson.is_object()) return usageError(cmd, "--form must be a JSON object");
  // Nobody can be asked without a terminal: refuse before opening the task, so a script
  // leaves no opening behind and never decides unflagged.
  if (!yes && isatty(STDIN_FILENO) == 0) {
    return usageError(cmd, "standard input is not a terminal, so you cannot be asked to confirm; look at the task first "
                           "('vigil approvals " + task + "') and pass --yes to decide without the question");
  }
  auto shown = call(cmd, c, "GET", path, "", &rc);
  if (!shown) return rc;
  if (!yes) {
    std::ostream& out = c.asJson ? std::cerr : std::cout;  // --json keeps standard output for the answer
    printShown(*shown, out);
    if (!confirmedAtPrompt(decision, out)) {
      std::cerr << "vigil " << cmd << ": not confirmed; nothing was decided\n";
      return kExitFailure;
    }
  }
  json body = {{"decision", decision},
               {"reason", reason},
               {"form", formJson},
               {"shown_digest", (*shown)["shown_digest"]},
               {"confirmed", yes ? "yes_flag" : "interactive"}};
  if (!rating.empty()) body["rating"] = rating;
  auto r = call(cmd, c, "POST", path + "/decide", body.dump(), &rc);
  if (!r) return rc;
  std::cout << (c.asJson ? r->dump() : task + " " + decision + " (" + (*r)["status"].get<std::string>() + ")") << "\n";
  return kExitOk;
}

int runClaim(CommandContext& ctx) {
  ClientOptions c;
  std::string task;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("task", po::value(&task));
  po::positional_options_description pos;
  pos.add("task", 1);
  int rc = kExitOk;
  if (!parseOptions("claim", ctx, opts, pos, &rc)) return rc;
  std::string path = taskPath(task);
  if (path.empty()) return usageError("claim", "name the task as RUN/STEP (see 'vigil approvals')");
  auto r = call("claim", c, "POST", path + "/claim", "{}", &rc);
  if (!r) return rc;
  std::cout << (c.asJson ? r->dump() : task + " claimed until " + (*r)["claim_until"].get<std::string>()) << "\n";
  return kExitOk;
}

int runReassign(CommandContext& ctx) {
  ClientOptions c;
  std::string task, reason;
  std::vector<std::string> users, roles;
  po::options_description opts;
  addCommon(opts, c);
  opts.add_options()("task", po::value(&task))("to-user", po::value(&users))("to-role", po::value(&roles))(
      "reason", po::value(&reason));
  po::positional_options_description pos;
  pos.add("task", 1);
  int rc = kExitOk;
  if (!parseOptions("reassign", ctx, opts, pos, &rc)) return rc;
  std::string path = taskPath(task);
  if (path.empty()) return usageError("reassign", "name the task as RUN/STEP");
  if (users.empty() && roles.empty()) return usageError("reassign", "give --to-user or --to-role");
  auto r = call("reassign", c, "POST", path + "/reassign", json{{"users", users}, {"roles", roles}, {"reason", reason}}.dump(), &rc);
  if (!r) return rc;
  std::cout << (c.asJson ? r->dump() : task + " reassigned") << "\n";
  return kExitOk;
}

const char* kDecideHelp =
    "Opens the task first (the server records when you opened it and a digest of exactly\n"
    "what you were shown), prints it and asks 'Decide OPTION on this task? [y/N]'; only y or\n"
    "yes sends the decision. --yes skips the question (for scripts, or when you have read the\n"
    "task with 'vigil approvals TASK'); the decision is then flagged as taken with --yes in\n"
    "the record and the approvals report. Without a terminal on standard input, --yes is\n"
    "required. A reason is needed unless the step says otherwise, and always when you\n"
    "change the recommended rating (--rating RED).\n"
    "--form JSON fills the fields the step's form declares.\n\n";

}  // namespace

Command approvalsCommand() {
  return Command{"approvals", "Your approval inbox, one task, or the override and SLA report (through the server)",
                 "vigil approvals [TASK] [--status open|decided|closed|any] [--workflow W] [--band B] [--overdue]\n"
                 "                [--assigned any|me|my-roles|unclaimed] [--report]\n"
                 "       vigil approvals --late [--since TIME] [--workflow W] [--json]",
                 std::string("Without TASK, lists every task assigned to your roles or to you by name (four-eyes\n"
                             "exclusions left out), most urgent first: by the step's priority (RED first in\n"
                             "mash-triage), then due time, then age, with each task's summary line and the total.\n"
                             "--band B, --overdue and --assigned narrow the list (my-roles: through a role;\n"
                             "me: named or claimed by you; unclaimed: nobody holds a claim).\n"
                             "With TASK (RUN/STEP), shows it as you are to decide it.\n"
                             "--report (admin): per workflow step, decisions, override rate, open and overdue\n"
                             "tasks and time to decision; then per approver and per rule (step, and by\n"
                             "recommended band) each person's votes, override rate, how many were taken within\n"
                             "the server's approvals.quick_decision_seconds (10 by default) of that person\n"
                             "opening the task, and how many with --yes.\n"
                             "--late (approver, auditor, admin): decisions made after their due time (the\n"
                             "area's decision timescale) and open tasks already past it, with how late;\n"
                             "--since TIME and --workflow W narrow it.\n\n") + kClientHelp,
                 runApprovals};
}

Command approveCommand() {
  return Command{"approve", "Approve a task (through the server)",
                 "vigil approve TASK --reason TEXT [--rating R] [--form JSON] [--yes] [--json]",
                 std::string(kDecideHelp) + kClientHelp,
                 [](CommandContext& ctx) { return decideTask("approve", ctx, "approve"); }};
}

Command rejectCommand() {
  return Command{"reject", "Reject a task (through the server)", "vigil reject TASK --reason TEXT [--yes] [--json]",
                 std::string(kDecideHelp) + kClientHelp,
                 [](CommandContext& ctx) { return decideTask("reject", ctx, "reject"); }};
}

Command decideCommand() {
  return Command{"decide", "Decide a task with one of its workflow-defined options (through the server)",
                 "vigil decide TASK OPTION --reason TEXT [--rating R] [--form JSON] [--yes] [--json]",
                 std::string(kDecideHelp) + kClientHelp, [](CommandContext& ctx) { return decideTask("decide", ctx, ""); }};
}

Command claimCommand() {
  return Command{"claim", "Claim a task so nobody else works it at once (through the server)", "vigil claim TASK [--json]",
                 std::string("The claim expires after the server's approvals.claim_minutes (15 by default) unless\n"
                             "renewed by claiming again.\n\n") + kClientHelp,
                 runClaim};
}

Command reassignCommand() {
  return Command{"reassign", "Reassign a task to other people or roles, with a reason (admin, through the server)",
                 "vigil reassign TASK (--to-user U | --to-role R)... --reason TEXT [--json]", kClientHelp, runReassign};
}

}  // namespace vigil::daemon

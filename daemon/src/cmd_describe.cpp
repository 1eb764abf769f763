// vigil describe: a readable summary of a workflow: owner, inputs, triggers, step tree.
#include <iostream>
#include <sstream>

#include "cli.h"
#include "vigil/duration.h"
#include "workflow_files.h"

namespace vigil::daemon {
namespace {

std::string summary(const Step& s) {
  std::ostringstream o;
  switch (s.kind()) {
    case StepKind::kUses: {
      const auto& u = std::get<UsesStep>(s.body);
      o << "uses " << u.connector << "." << u.action;
      break;
    }
    case StepKind::kParallel: o << "parallel (" << std::get<ParallelStep>(s.body).branches.size() << " branches)"; break;
    case StepKind::kForeach: {
      const auto& f = std::get<ForeachStep>(s.body);
      o << "foreach " << f.as << " (concurrency " << f.concurrency << ")";
      break;
    }
    case StepKind::kSwitch: o << "switch (" << std::get<SwitchStep>(s.body).cases.size() << " cases)"; break;
    case StepKind::kCall: o << "call " << std::get<CallStep>(s.body).workflow; break;
    case StepKind::kSet: o << "set"; break;
    case StepKind::kDecide: {
      const auto& d = std::get<DecideStep>(s.body);
      o << "decide (" << d.rules.size() << " rules; bands";
      for (const auto& b : d.bands) o << " " << b.name << ">=" << b.threshold;
      o << ")";
      break;
    }
    case StepKind::kApproval: {
      const auto& a = std::get<ApprovalStep>(s.body);
      o << "approval by";
      for (const auto& r : a.roles) o << " " << r;
      for (const auto& u : a.users) o << " user:" << u;
      if (a.quorum > 1) o << ", quorum " << a.quorum;
      if (a.timeout) o << ", timeout " << formatDuration(*a.timeout);
      if (a.due) o << ", due " << a.due->text();
      for (const auto& e : a.escalate) {
        o << ", escalate";
        if (e.when) o << " when " << e.when->text() << ",";
        o << (e.beforeDue ? " " + formatDuration(*e.beforeDue) + " before due" : " after " + formatDuration(e.after)) << " to";
        for (const auto& t : e.to) o << " " << t;
      }
      break;
    }
    case StepKind::kWait: {
      const auto& w = std::get<WaitStep>(s.body);
      o << "wait " << (w.duration ? formatDuration(*w.duration) : std::string("until a time"));
      break;
    }
  }
  if (s.condition) o << "  if " << s.condition->text();
  if (s.retry) o << "  retry x" << s.retry->maxAttempts;
  if (s.timeout) o << "  timeout " << formatDuration(*s.timeout);
  if (!s.purpose.empty()) o << "  purpose: " << s.purpose;
  return o.str();
}

void printSteps(const Workflow& wf, const std::vector<StepIndex>& list, int depth) {
  for (StepIndex i : list) {
    const Step& s = wf.steps[i];
    std::cout << std::string(static_cast<size_t>(depth) * 2 + 2, ' ') << "- " << s.id << ": " << summary(s) << "\n";
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, ParallelStep>) printSteps(wf, body.branches, depth + 1);
          if constexpr (std::is_same_v<T, ForeachStep>) printSteps(wf, body.body, depth + 1);
          if constexpr (std::is_same_v<T, SwitchStep>) {
            for (const auto& c : body.cases) {
              std::cout << std::string(static_cast<size_t>(depth) * 2 + 4, ' ') << "when " << c.when.text() << ":\n";
              printSteps(wf, c.steps, depth + 2);
            }
            if (!body.otherwise.empty()) {
              std::cout << std::string(static_cast<size_t>(depth) * 2 + 4, ' ') << "default:\n";
              printSteps(wf, body.otherwise, depth + 2);
            }
          }
        },
        s.body);
    if (!s.onError.steps.empty()) {
      std::cout << std::string(static_cast<size_t>(depth) * 2 + 4, ' ') << "on error:\n";
      printSteps(wf, s.onError.steps, depth + 2);
    }
  }
}

int runDescribe(CommandContext& ctx) {
  if (ctx.args.empty()) return usageError("describe", "name at least one workflow file");
  for (const auto& a : ctx.args) {
    if (!a.empty() && a[0] == '-') return usageError("describe", "unknown option '" + a + "'");
  }
  LoadedFiles loaded = loadWithLibrary(ctx.args, {});
  int rc = kExitOk;
  for (const auto& f : loaded.files) {
    const LoadResult& r = loaded.results.at(f);
    if (!r.ok()) {
      for (const auto& d : r.diagnostics) std::cerr << d.format() << "\n";
      rc = kExitFailure;
      continue;
    }
    const Workflow& wf = *r.workflow;
    std::cout << "workflow " << wf.name << " version " << wf.version << "  (" << f << ")\n"
              << "  sha256: " << wf.hash << "\n"
              << "  owner: " << wf.owner << "\n";
    if (!wf.description.empty()) {
      std::string d = wf.description;
      while (!d.empty() && (d.back() == '\n' || d.back() == ' ')) d.pop_back();
      std::cout << "  description: " << d << "\n";
    }
    if (!wf.inputs.empty()) {
      std::cout << "  inputs:\n";
      for (const auto& [n, t] : wf.inputs) {
        std::cout << "    " << n << ": " << t.type;
        if (!t.required.empty()) {
          std::cout << " (requires";
          for (const auto& q : t.required) std::cout << " " << q;
          std::cout << ")";
        }
        std::cout << "\n";
      }
    }
    for (const auto& t : wf.triggers) {
      const char* kind = t.kind == Trigger::Kind::kCron ? "cron" : t.kind == Trigger::Kind::kWebhook ? "webhook" : "watch";
      std::cout << "  trigger: " << kind << " " << t.spec << (t.pattern.empty() ? "" : " " + t.pattern)
                << (t.wait ? " (answers when done, waiting up to " + std::to_string(t.wait->count() / 1000) + " s)" : "") << "\n";
    }
    if (!wf.sensitive.empty()) {
      std::cout << "  sensitive:";
      for (const auto& s : wf.sensitive) std::cout << " " << s;
      std::cout << "\n";
    }
    std::cout << "  steps:\n";
    printSteps(wf, wf.topLevel, 1);
    if (!wf.onError.empty()) {
      std::cout << "  on error:\n";
      printSteps(wf, wf.onError, 1);
    }
    std::cout << "\n";
  }
  return rc;
}

}  // namespace

Command describeCommand() {
  return Command{"describe", "Summarise workflows: owner, inputs, triggers and the step tree",
                 "vigil describe FILE...",
                 "Validates each FILE (as 'vigil validate' does) and prints what it does: its owner,\n"
                 "content hash, inputs, triggers, sensitive fields and every step with its kind,\n"
                 "condition, retry, timeout and stated purpose.\n\n"
                 "Exit status: 0 when every file is valid, 1 otherwise, 2 for bad arguments.\n",
                 runDescribe};
}

}  // namespace vigil::daemon

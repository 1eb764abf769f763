#include "catalog/publication_checks.h"

#include <algorithm>

namespace vigil::daemon {
namespace {

std::string listOf(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

void checkAreaNames(const Workflow& wf, const Area& area, std::vector<Diagnostic>* out) {
  std::vector<std::string> calendars, timescales;
  for (const auto& [name, c] : area.calendars) calendars.push_back(name);
  for (const auto& [name, t] : area.timescales) timescales.push_back(name);
  for (const auto& ref : wf.areaNames) {
    const bool known = ref.timescale ? area.timescales.count(ref.name) > 0 : area.calendar(ref.name) != nullptr;
    if (known) continue;
    const std::string kind = ref.timescale ? "timescale" : "calendar";
    out->push_back(Diagnostic{wf.sourceFile, ref.pos.line, ref.pos.column, DiagnosticCategory::kSemantic,
                              "the expression names " + kind + " '" + ref.name + "', which area '" + area.name +
                                  "' does not have (it has " + listOf(ref.timescale ? timescales : calendars) + ")"});
  }
}

void checkPeople(const Workflow& wf, const Assignees& people, std::vector<Diagnostic>* out) {
  auto add = [&](SourcePos at, Severity severity, std::string message) {
    Diagnostic d{wf.sourceFile, at.line, at.column, DiagnosticCategory::kSemantic, std::move(message)};
    d.severity = severity;
    out->push_back(std::move(d));
  };
  // A role nobody can act for yet is a warning: accounts are often made after the workflow
  // is in place, and the approval watch escalates such tasks to the owner role meanwhile.
  auto role = [&](SourcePos at, const std::string& name, const std::string& what) {
    std::string why = people.whyNotRole(name, {});
    if (!why.empty()) add(at, Severity::kWarning, what + ": " + why + "; its tasks will go to the owner role until someone can act");
  };
  if (!wf.owner.empty()) {
    std::string why = people.whyNotRole(wf.owner, {});
    if (!why.empty()) {
      add(wf.ownerPos, Severity::kWarning, "owner role: " + why + "; nobody can yet confirm a cancellation or take over a stuck task");
    }
  }
  for (const auto& s : wf.steps) {
    const auto* a = std::get_if<ApprovalStep>(&s.body);
    if (a == nullptr) continue;
    const std::string what = "approval step '" + s.id + "'";
    for (const auto& u : a->users) {
      // A name that matches no account is a slip (or a leaver): a task assigned to it would
      // wait for nobody. An account that exists but cannot act now may be fixed later.
      std::string why = people.whyNotUser(u, {});
      if (why.empty()) continue;
      add(s.pos, people.exists(u) ? Severity::kWarning : Severity::kError, what + " assigns user '" + u + "': " + why);
    }
    for (const auto& r : a->roles) role(s.pos, r, what + " assigns role '" + r + "'");
    for (size_t i = 0; i < a->escalate.size(); ++i) {
      for (const auto& r : a->escalate[i].to) {
        role(s.pos, r, "escalation " + std::to_string(i + 1) + " of " + what + " goes to '" + r + "'");
      }
    }
  }
}

}  // namespace

std::vector<Diagnostic> publicationProblems(const Workflow& wf, const PublicationContext& ctx) {
  std::vector<Diagnostic> out;
  if (ctx.connectors != nullptr) out = ctx.connectors->check(wf, false);
  if (ctx.area != nullptr) checkAreaNames(wf, *ctx.area, &out);
  if (ctx.people != nullptr) checkPeople(wf, *ctx.people, &out);
  if (ctx.webhookUser) {
    for (const auto& t : wf.triggers) {
      if (t.kind != Trigger::Kind::kWebhook) continue;
      const std::string other = ctx.webhookUser(t.spec);
      if (!other.empty() && other != wf.name) {
        // Two workflows on one path: deliveries would silently start the newer one.
        out.push_back(Diagnostic{wf.sourceFile, t.pos.line, t.pos.column, DiagnosticCategory::kSemantic,
                                 "webhook path '" + t.spec + "' is already used by workflow '" + other + "'"});
      }
    }
  }
  sortDiagnostics(out);
  return out;
}

bool hasErrors(const std::vector<Diagnostic>& diags) {
  return std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace vigil::daemon

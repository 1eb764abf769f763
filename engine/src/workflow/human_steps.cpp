// Parsing of the steps that explain or involve people: `decide` and `approval`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <regex>
#include <set>

#include "builder.h"
#include "vigil/duration.h"

namespace vigil::loader {
namespace {

// Whether a score's text is written as an expression: `${{` after any blanks, as the
// schema's pattern says, so that the two agree on what is an expression at all.
bool startsAsExpression(std::string_view text) {
  size_t lead = text.find_first_not_of(" \t");
  return lead != std::string_view::npos && text.substr(lead, 3) == "${{";
}

// "a string", "an object", "a list" (the expression language's word for an array), "null".
std::string aType(std::string_view type) {
  if (type == "null") return "null";
  if (type == "object") return "an object";
  if (type == "array" || type == "list") return "a list";
  return "a " + std::string(type);
}

}  // namespace

void Builder::parseDecide(const Node& body, Step& s, StepIndex self) {
  DecideStep d;
  std::string what = "'decide' of " + stepWhat(s);
  if (!c_.checkMap(body, {"rules", "bands"}, {"rules", "bands"}, what) && !body.isMap()) {
    s.body = std::move(d);
    return;
  }
  if (const Node* rules = body.find("rules"); rules && c_.requireList(*rules, "'rules' of " + what)) {
    if (rules->items.empty()) c_.error(*rules, DiagnosticCategory::kSchema, "'rules' of " + what + " must not be empty");
    std::set<std::string> ruleIds;
    for (size_t i = 0; i < rules->items.size(); ++i) {
      const Node& r = rules->items[i];
      std::string rw = "rule " + std::to_string(i + 1) + " of " + what;
      if (!c_.checkMap(r, {"id", "when", "score", "reason"}, {"when", "score", "reason"}, rw) && !r.isMap()) continue;
      std::optional<Expression> when;
      if (const Node* w = r.find("when")) {
        OffsetMap where;
        when = c_.expression(*w, "'when' of " + rw, &where);
        if (when) stepUses_[self].push_back(ExprUse{*when, where, "'when' of " + rw});
      }
      std::optional<double> score;
      std::optional<Expression> scoreExpr;
      if (const Node* sc = r.find("score")) {
        const Json v = yaml::scalarValue(*sc);
        if (sc->isScalar() && v.is_number()) {
          score = v.get<double>();
        } else if (sc->isScalar() && v.is_string() && startsAsExpression(v.get_ref<const std::string&>())) {
          OffsetMap where;
          scoreExpr = c_.expression(*sc, "'score' of " + rw, &where);
          if (scoreExpr) {
            stepUses_[self].push_back(ExprUse{*scoreExpr, where, "'score' of " + rw});
            scoreUses_.push_back(stepUses_[self].back());
          }
        } else {
          // Only `${{ }}` marks an expression: a bare word (`score: high`) is a slip, not a name.
          c_.error(*sc, DiagnosticCategory::kSchema,
                   "'score' of " + rw + " must be a number or a ${{ ... }} expression, got " + sc->typeName());
        }
      }
      std::optional<std::string> reason;
      if (const Node* rs = r.find("reason")) {
        reason = c_.string(*rs, "'reason' of " + rw);
        if (reason && reason->empty()) {
          c_.error(*rs, DiagnosticCategory::kSemantic, "'reason' of " + rw + " must explain the rule");
          reason.reset();
        }
      }
      std::string id = "rule-" + std::to_string(i + 1);
      if (const Node* idn = r.find("id")) {
        if (auto v = c_.string(*idn, "'id' of " + rw)) {
          id = *v;
          if (!ruleIds.insert(id).second) {
            c_.error(*idn, DiagnosticCategory::kSemantic, "duplicate rule id '" + id + "' in " + what);
          }
        }
      }
      if (when && (score || scoreExpr) && reason) {
        DecideStep::Rule rule{id, std::move(*when), score.value_or(std::numeric_limits<double>::quiet_NaN()),
                              std::move(scoreExpr), *reason};
        d.rules.push_back(std::move(rule));
      }
    }
  }
  if (const Node* bands = body.find("bands"); bands && c_.requireMap(*bands, "'bands' of " + what)) {
    if (bands->entries.empty()) c_.error(*bands, DiagnosticCategory::kSchema, "'bands' of " + what + " must not be empty");
    std::map<double, std::string> seen;
    for (const auto& [k, v] : bands->entries) {
      auto t = c_.number(v, "threshold of band '" + k.scalar + "' of " + what);
      if (!t) continue;
      auto [it, inserted] = seen.emplace(*t, k.scalar);
      if (!inserted) {
        c_.error(v, DiagnosticCategory::kSemantic,
                 "bands '" + it->second + "' and '" + k.scalar + "' of " + what + " have the same threshold");
        continue;
      }
      d.bands.push_back(DecideStep::Band{k.scalar, *t});
    }
    std::sort(d.bands.begin(), d.bands.end(), [](const auto& a, const auto& b) { return a.threshold > b.threshold; });
  }
  s.body = std::move(d);
}

// A score that can never be a number would fail every run that fires its rule; say so now
// where that is certain: an expression that reads no value (computed here: only now() could
// differ in a run, and not in its type), or one that is only a path whose type the workflow
// declares. Anything else is checked when it runs, and a run never counts it as 0.
void Builder::checkScores() {
  for (const auto& use : scoreUses_) {
    const std::string& text = use.expr.text();
    const size_t start = std::min(text.find_first_not_of(" \t\n"), text.size());
    const auto& paths = use.expr.paths();
    std::string problem;
    size_t at = start;
    if (paths.empty() && use.expr.areaNames().empty()) {
      const Json nothing = Json::object();
      JsonBindings none(nothing);
      EvalContext ctx;
      ctx.bindings = &none;
      auto v = use.expr.evaluate(ctx);
      if (!v) {
        problem = "it fails in every run: " + v.status().message();
        // Point at the operator that fails, as a parse error does, rather than say its column.
        static const std::regex kCol(" at col ([0-9]{1,5})$");
        if (std::smatch m; std::regex_search(problem, m, kCol)) {
          at = std::min(std::stoul(m[1].str()) - 1, text.size());
          problem.erase(static_cast<size_t>(m.position(0)));
        }
      } else if (!v->is_number() || !std::isfinite(v->get<double>())) {
        problem = "it always gives " + (v->is_number() ? std::string("a number out of range") : aType(v->type_name()));
      }
    } else if (paths.size() == 1) {
      std::string path;
      for (const auto& seg : paths[0].segments) path += (path.empty() ? "" : ".") + seg;
      const size_t end = text.find_last_not_of(" \t\n");
      const bool whole = end != std::string::npos && text.substr(start, end + 1 - start) == path;
      if (std::string type = staticType(paths[0]); whole && !type.empty() && type != "number") {
        problem = "'" + path + "' is " + aType(type);
      }
    }
    if (!problem.empty()) {
      c_.error(use.where(at), DiagnosticCategory::kSemantic, use.what + " must give a number, but " + problem);
    }
  }
}

void Builder::parseApproval(const Node& body, Step& s, StepIndex self) {
  ApprovalStep a;
  std::string what = "'approval' of " + stepWhat(s);
  static const std::vector<std::string_view> kKeys = {"assign", "quorum", "distinct_from", "options", "reason",
                                                      "timeout", "on_timeout", "escalate", "show", "form",
                                                      "recommendation", "due", "ratings", "priority", "summary", "require"};
  if (!c_.checkMap(body, kKeys, {"assign"}, what) && !body.isMap()) {
    s.body = std::move(a);
    return;
  }
  if (const Node* as = body.find("assign")) {
    if (as->isMap()) {
      c_.checkMap(*as, {"roles", "users"}, {}, "'assign' of " + what);
      if (const Node* r = as->find("roles")) {
        if (auto v = c_.stringList(*r, "'roles' of " + what, true)) a.roles = *v;
      }
      if (const Node* u = as->find("users")) {
        if (auto v = c_.stringList(*u, "'users' of " + what, true)) a.users = *v;
      }
      if (a.roles.empty() && a.users.empty()) {
        c_.error(*as, DiagnosticCategory::kSemantic, "'assign' of " + what + " names no role or user");
      }
    } else if (auto v = c_.stringList(*as, "'assign' of " + what, true)) {
      a.roles = *v;
      if (a.roles.empty()) {
        c_.error(*as, DiagnosticCategory::kSemantic, "'assign' of " + what + " names no role or user");
      }
    }
  }
  if (const Node* q = body.find("quorum")) {
    if (auto v = c_.integer(*q, "'quorum' of " + what, 1, 20)) a.quorum = static_cast<int>(*v);
  }
  if (const Node* df = body.find("distinct_from")) {
    if (c_.requireList(*df, "'distinct_from' of " + what)) {
      for (const auto& item : df->items) {
        // `started_by` is the documented shorthand for the person who started the run.
        if (item.isScalar() && item.scalar == "started_by") {
          a.distinctFrom.push_back(std::get<Expression>(Expression::parse("run.started_by")));
          continue;
        }
        OffsetMap where;
        if (auto e = c_.expression(item, "'distinct_from' of " + what, &where)) {
          stepUses_[self].push_back(ExprUse{*e, where, "'distinct_from' of " + what});
          a.distinctFrom.push_back(std::move(*e));
        }
      }
    }
  }
  a.options = {"approve", "reject"};
  if (const Node* o = body.find("options")) {
    if (auto v = c_.stringList(*o, "'options' of " + what, false)) {
      static const std::regex kOpt("[a-z][a-z0-9_]{0,31}");
      std::set<std::string> seen;
      for (size_t i = 0; i < v->size(); ++i) {
        if (!std::regex_match((*v)[i], kOpt)) {
          c_.error(o->items[i], DiagnosticCategory::kSchema, "option '" + (*v)[i] + "' of " + what + " must be a lower-case identifier");
        } else if (!seen.insert((*v)[i]).second) {
          c_.error(o->items[i], DiagnosticCategory::kSemantic, "duplicate option '" + (*v)[i] + "' in " + what);
        }
      }
      if (v->size() < 2) c_.error(*o, DiagnosticCategory::kSchema, "'options' of " + what + " needs at least 2 choices");
      a.options = *v;
    }
  }
  if (const Node* r = body.find("reason")) {
    if (c_.checkMap(*r, {"required", "min_length"}, {}, "'reason' of " + what) || r->isMap()) {
      if (const Node* req = r->find("required")) {
        if (auto b = c_.boolean(*req, "'required' of 'reason' of " + what)) a.reasonRequired = *b;
      }
      if (const Node* ml = r->find("min_length")) {
        if (auto v = c_.integer(*ml, "'min_length' of 'reason' of " + what, 0, 2000)) {
          a.reasonMinLength = static_cast<int>(*v);
        }
      }
    }
  }
  if (const Node* t = body.find("timeout")) a.timeout = c_.duration(*t, "'timeout' of " + what);
  if (const Node* ot = body.find("on_timeout")) {
    if (auto v = c_.string(*ot, "'on_timeout' of " + what)) {
      bool known = *v == "fail" || *v == "escalate" ||
                   std::find(a.options.begin(), a.options.end(), *v) != a.options.end();
      if (!known) {
        c_.error(*ot, DiagnosticCategory::kSemantic,
                 "'on_timeout' of " + what + " must be 'fail', 'escalate' or one of the options, got '" + *v + "'");
      }
      if (!body.find("timeout")) {
        c_.error(*ot, DiagnosticCategory::kSemantic, "'on_timeout' of " + what + " needs a 'timeout'");
      }
      if (*v == "escalate" && !body.find("escalate")) {
        c_.error(*ot, DiagnosticCategory::kSemantic,
                 "'on_timeout: escalate' of " + what + " needs an 'escalate' chain to say to whom");
      }
      a.onTimeout = *v;
    }
  }
  if (const Node* e = body.find("escalate")) {
    std::vector<const Node*> levels;
    if (e->isMap()) {
      levels.push_back(e);
    } else if (c_.requireList(*e, "'escalate' of " + what)) {
      for (const auto& item : e->items) levels.push_back(&item);
    }
    Millis last{-1};  // a first level may escalate at once (after: 0s)
    for (const Node* lv : levels) {
      if (!c_.checkMap(*lv, {"after", "before_due", "when", "to", "remind"}, {"to"}, "an escalation of " + what) && !lv->isMap()) continue;
      ApprovalStep::Escalation esc;
      if (lv->find("after") != nullptr && lv->find("before_due") != nullptr) {
        c_.error(*lv, DiagnosticCategory::kSchema, "an escalation of " + what + " has either 'after' or 'before_due', not both");
      } else if (lv->find("after") == nullptr && lv->find("before_due") == nullptr) {
        c_.error(*lv, DiagnosticCategory::kSchema, "an escalation of " + what + " needs 'after' (from the request) or 'before_due'");
      }
      if (const Node* bd = lv->find("before_due")) {
        esc.beforeDue = c_.duration(*bd, "'before_due' of an escalation of " + what);
        if (body.find("due") == nullptr) {
          c_.error(*bd, DiagnosticCategory::kSemantic, "'before_due' of an escalation of " + what + " needs a 'due' on the approval");
        }
      }
      if (const Node* wh = lv->find("when")) {
        OffsetMap where;
        if (auto cond = c_.expression(*wh, "'when' of an escalation of " + what, &where)) {
          stepUses_[self].push_back(ExprUse{*cond, where, "'when' of an escalation of " + what});
          esc.when = std::move(cond);
        }
      }
      if (const Node* af = lv->find("after")) {
        if (auto d = c_.duration(*af, "'after' of an escalation of " + what)) {
          esc.after = *d;
          if (*d <= last) {
            c_.error(*af, DiagnosticCategory::kSemantic, "escalations of " + what + " must come in increasing 'after' order");
          }
          if (a.timeout && *d >= *a.timeout) {
            c_.error(*af, DiagnosticCategory::kSemantic,
                     "escalation after " + af->scalar + " in " + what + " is not before its 'timeout' of " +
                         formatDuration(*a.timeout));
          }
          last = *d;
        }
      }
      if (const Node* to = lv->find("to")) {
        if (auto v = c_.stringList(*to, "'to' of an escalation of " + what, true)) {
          esc.to = *v;
          if (esc.to.empty()) {
            c_.error(*to, DiagnosticCategory::kSemantic, "an escalation of " + what + " escalates to nobody");
          }
        }
      }
      if (const Node* rm = lv->find("remind")) {
        const std::string rwhat = "'remind' of an escalation of " + what;
        if (c_.checkMap(*rm, {"uses", "with"}, {"uses"}, rwhat) || rm->isMap()) {
          UsesStep u;
          if (const Node* us = rm->find("uses")) {
            static const std::regex kAction("([a-z][a-z0-9_-]*)\\.([a-z][a-z0-9_]*)");
            std::smatch m;
            auto v = c_.string(*us, "'uses' of " + rwhat);
            if (v && std::regex_match(*v, m, kAction)) {
              u.connector = m[1];
              u.action = m[2];
            } else if (v) {
              c_.error(*us, DiagnosticCategory::kSchema, "'uses' of " + rwhat + " must be CONNECTOR.ACTION, got '" + *v + "'");
            }
          }
          if (const Node* w = rm->find("with")) {
            if (c_.requireMap(*w, "'with' of " + rwhat)) {
              const size_t before = stepUses_[self].size();
              u.with = compileValue(*w, "'with' of " + rwhat, &stepUses_[self]);
              for (size_t i = before; i < stepUses_[self].size(); ++i) stepUses_[self][i].secretsAllowed = true;
            }
          }
          esc.remind = std::move(u);
        }
      }
      a.escalate.push_back(std::move(esc));
    }
  }
  if (const Node* sh = body.find("show")) {
    if (c_.requireList(*sh, "'show' of " + what)) {
      for (const auto& item : sh->items) {
        OffsetMap where;
        if (auto e = c_.expression(item, "'show' of " + what, &where)) {
          stepUses_[self].push_back(ExprUse{*e, where, "'show' of " + what});
          a.show.push_back(e->text());
        }
      }
    }
  }
  if (const Node* f = body.find("form")) {
    if (c_.requireMap(*f, "'form' of " + what)) {
      for (const auto& [k, v] : f->entries) {
        a.form[k.scalar] = parseType(v, "form field '" + k.scalar + "'", 0).value_or(anyType());
      }
    }
  }
  if (const Node* ra = body.find("ratings")) {
    if (c_.requireMap(*ra, "'ratings' of " + what)) {
      for (const auto& [k, v] : ra->entries) {
        if (std::find(a.options.begin(), a.options.end(), k.scalar) == a.options.end()) {
          c_.error(k, DiagnosticCategory::kSemantic, "'ratings' of " + what + " names '" + k.scalar + "', which is not one of the options");
          continue;
        }
        if (auto r = c_.string(v, "the rating of option '" + k.scalar + "' in " + what)) a.ratings[k.scalar] = *r;
      }
      if (!body.find("recommendation")) {
        c_.error(*ra, DiagnosticCategory::kSemantic, "'ratings' of " + what + " needs a 'recommendation' to compare them with");
      }
    }
  }
  if (const Node* du = body.find("due")) {
    OffsetMap where;
    if (auto e = c_.expression(*du, "'due' of " + what, &where)) {
      stepUses_[self].push_back(ExprUse{*e, where, "'due' of " + what});
      a.due = std::move(e);
    }
  }
  if (const Node* rq = body.find("require")) {
    if (c_.requireList(*rq, "'require' of " + what)) {
      for (const auto& item : rq->items) {
        const std::string w = "a 'require' of " + what;
        if (!c_.checkMap(item, {"when", "message"}, {"when", "message"}, w)) continue;
        OffsetMap where;
        auto e = c_.expression(*item.find("when"), "'when' of " + w, &where);
        auto m = c_.string(*item.find("message"), "'message' of " + w);
        if (!e || !m) continue;
        ExprUse use{*e, where, "'when' of " + w};
        use.bindings.push_back("decision");
        stepUses_[self].push_back(std::move(use));
        a.require.push_back(ApprovalStep::Requirement{std::move(*e), *m});
      }
    }
  }
  if (const Node* p = body.find("priority")) {
    OffsetMap where;
    if (auto e = c_.expression(*p, "'priority' of " + what, &where)) {
      stepUses_[self].push_back(ExprUse{*e, where, "'priority' of " + what});
      a.priority = std::move(e);
    }
  }
  if (const Node* sm = body.find("summary")) {
    OffsetMap where;
    if (sm->isScalar()) {
      if (auto t = c_.templ(*sm, "'summary' of " + what, &where)) {
        addTemplateUses(*t, where, "'summary' of " + what, &stepUses_[self]);
        a.summary = std::move(t);
      }
    } else {
      c_.error(*sm, DiagnosticCategory::kSchema, "'summary' of " + what + " must be a one-line text");
    }
  }
  if (const Node* r = body.find("recommendation")) {
    OffsetMap where;
    if (auto e = c_.expression(*r, "'recommendation' of " + what, &where)) {
      stepUses_[self].push_back(ExprUse{*e, where, "'recommendation' of " + what});
      a.recommendation = std::move(e);
    }
  }
  s.body = std::move(a);
}

}  // namespace vigil::loader

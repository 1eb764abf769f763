// Step parsing: common keys, then the one key that names the step's kind.
#include <regex>

#include "builder.h"

namespace vigil::loader {
namespace {

const std::vector<std::string_view> kKinds = {"uses", "parallel", "foreach", "switch", "call",
                                              "set",  "decide",   "approval", "wait"};
const std::vector<std::string_view> kCommon = {"id", "name", "if", "purpose", "retry", "timeout", "on_error"};

std::vector<std::string_view> allowedKeys(std::string_view kind) {
  std::vector<std::string_view> keys = kCommon;
  keys.push_back(kind);
  if (kind == "uses" || kind == "call") keys.push_back("with");
  if (kind == "foreach") {
    keys.push_back("as");
    keys.push_back("concurrency");
    keys.push_back("steps");
  }
  return keys;
}

bool isKind(std::string_view key) { return std::find(kKinds.begin(), kKinds.end(), key) != kKinds.end(); }
bool isCommon(std::string_view key) { return std::find(kCommon.begin(), kCommon.end(), key) != kCommon.end(); }

// RFC 6901 escaping of one JSON Pointer reference token.
std::string escapePointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

// A step without a usable id is named by where it is, not as "step ''".
std::string stepWhat(const Step& s) {
  return s.id.empty() ? "step at line " + std::to_string(s.pos.line) : "step '" + s.id + "'";
}

std::vector<StepIndex> Builder::parseStepList(const Node& list, std::optional<StepIndex> parent, const std::string& what) {
  std::vector<StepIndex> out;
  if (!c_.requireList(list, what)) {
    return out;
  }
  for (const auto& item : list.items) {
    if (auto idx = parseStep(item, parent)) {
      out.push_back(*idx);
    }
  }
  return out;
}

std::optional<StepIndex> Builder::parseStep(const Node& n, std::optional<StepIndex> parent) {
  if (!n.isMap()) {
    c_.error(n, DiagnosticCategory::kSchema, std::string("a step must be a map, got ") + n.typeName());
    return std::nullopt;
  }
  if (wf_.steps.size() >= limits_.maxSteps) {
    c_.error(n, DiagnosticCategory::kSemantic, "workflow has more than " + std::to_string(limits_.maxSteps) + " steps");
    return std::nullopt;
  }
  const StepIndex self = static_cast<StepIndex>(wf_.steps.size());
  wf_.steps.emplace_back();
  stepUses_.emplace_back();
  onErrorUses_.emplace_back();
  Step s;
  s.pos = {n.line, n.column};
  s.parent = parent;

  // Which kind is this?
  std::vector<const Node*> present;
  for (const auto& [k, v] : n.entries) {
    if (isKind(k.scalar)) {
      present.push_back(&k);
    }
  }
  if (const Node* id = n.find("id")) {
    if (auto sid = c_.string(*id, "step 'id'")) {
      static const std::regex kId("[a-z][a-z0-9_-]{0,62}");
      if (!std::regex_match(*sid, kId)) {
        c_.error(*id, DiagnosticCategory::kSchema,
                 "step id '" + *sid + "' must be lower-case letters, digits, '_' and '-', starting with a letter");
      }
      s.id = *sid;
      auto [it, inserted] = ids_.emplace(s.id, self);
      if (!inserted) {
        const Step& first = wf_.steps[it->second];
        c_.error(*id, DiagnosticCategory::kSemantic,
                 "duplicate step id '" + s.id + "' (first defined at line " + std::to_string(first.pos.line) + ")");
      }
    }
  }
  std::string what = stepWhat(s);
  if (present.empty()) {
    reportMissingKind(n, what);
    parseCommon(n, s, self);
    wf_.steps[self] = std::move(s);
    return self;
  }
  std::vector<std::string_view> allowed = allowedKeys(present[0]->scalar);
  if (present.size() > 1) {
    // Point at the extra kind, and do not also call it an unknown key.
    c_.error(*present[1], DiagnosticCategory::kSchema,
             what + " has both '" + present[0]->scalar + "' and '" + present[1]->scalar +
                 "'; a step has exactly one kind");
    for (const Node* k : present) allowed.push_back(k->scalar);
  }
  c_.checkMap(n, allowed, {"id"}, what);
  parseCommon(n, s, self);
  // Only connector calls are retried or timed out as a step; approvals and waits carry
  // their own deadlines, and composite steps take their children's.
  if (present[0]->scalar != "uses") {
    for (const char* key : {"retry", "timeout"}) {
      for (const auto& [k, v] : n.entries) {
        if (k.scalar == key) {
          c_.error(k, DiagnosticCategory::kSchema,
                   "'" + k.scalar + "' applies only to 'uses' steps, not to the " + present[0]->scalar + " step '" +
                       s.id + "'");
        }
      }
    }
  }
  parseKind(present[0]->scalar, n, s, self);
  wf_.steps[self] = std::move(s);
  return self;
}

// A step with no kind key: a key that looks like a kind is a misspelt kind; a key that
// looks like a common key is a misspelt common key, not an invented kind.
void Builder::reportMissingKind(const Node& n, const std::string& what) {
  std::vector<const Node*> unknown;
  for (const auto& [k, v] : n.entries) {
    if (!isCommon(k.scalar) && k.scalar != "with" && k.scalar != "as" && k.scalar != "concurrency" &&
        k.scalar != "steps") {
      unknown.push_back(&k);
    }
  }
  bool namedKind = false;
  std::vector<const Node*> others;
  for (const Node* k : unknown) {
    std::string hint = didYouMean(k->scalar, kKinds);
    if (!hint.empty()) {
      c_.error(*k, DiagnosticCategory::kSchema,
               "unknown step kind '" + k->scalar + "' in " + what + " (did you mean '" + hint + "'?)");
      namedKind = true;
    } else {
      others.push_back(k);
    }
  }
  for (const Node* k : others) {
    std::string hint = didYouMean(k->scalar, kCommon);
    if (!hint.empty()) {
      c_.error(*k, DiagnosticCategory::kSchema,
               "unknown key '" + k->scalar + "' in " + what + " (did you mean '" + hint + "'?)");
    } else if (!namedKind) {
      c_.error(*k, DiagnosticCategory::kSchema,
               "unknown step kind '" + k->scalar + "' in " + what +
                   " (expected one of uses, parallel, foreach, switch, call, set, decide, approval, wait)");
      namedKind = true;
    } else {
      c_.error(*k, DiagnosticCategory::kSchema, "unknown key '" + k->scalar + "' in " + what);
    }
  }
  if (!namedKind) {
    c_.error(n, DiagnosticCategory::kSchema,
             what + " has no kind: add one of uses, parallel, foreach, switch, call, set, decide, approval, wait");
  }
  if (n.find("id") == nullptr) {
    c_.error(n, DiagnosticCategory::kSchema, "missing required key 'id' in " + what);
  }
}

void Builder::parseCommon(const Node& n, Step& s, StepIndex self) {
  std::string what = stepWhat(s);
  if (const Node* x = n.find("name")) {
    if (auto v = c_.string(*x, "'name' of " + what)) s.name = *v;
  }
  if (const Node* x = n.find("if")) {
    OffsetMap where;
    if (auto e = c_.expression(*x, "'if' of " + what, &where)) {
      stepUses_[self].push_back(ExprUse{*e, where, "'if' of " + what});
      s.condition = std::move(e);
    }
  }
  if (const Node* x = n.find("purpose")) {
    if (auto v = c_.string(*x, "'purpose' of " + what)) s.purpose = *v;
  }
  if (const Node* x = n.find("retry")) s.retry = parseRetry(*x, "'retry' of " + what);
  if (const Node* x = n.find("timeout")) s.timeout = c_.duration(*x, "'timeout' of " + what);
  if (const Node* x = n.find("on_error")) {
    if (x->isScalar()) {
      auto v = c_.string(*x, "'on_error' of " + what);
      if (v && *v == "continue") {
        s.onError.mode = ErrorPolicy::Mode::kContinue;
      } else if (v && *v == "fail") {
        s.onError.mode = ErrorPolicy::Mode::kFail;
      } else if (v) {
        c_.error(*x, DiagnosticCategory::kSchema, "'on_error' of " + what + " must be 'continue', 'fail' or a list of steps");
      }
    } else if (c_.requireList(*x, "'on_error' of " + what)) {
      s.onError.mode = ErrorPolicy::Mode::kSteps;
      s.onError.steps = parseStepList(*x, self, "'on_error' of " + what);
    }
  }
}

std::optional<RetryPolicy> Builder::parseRetry(const Node& n, const std::string& what) {
  if (!c_.checkMap(n, {"max", "backoff", "initial", "max_delay", "jitter"}, {"max"}, what) && !n.isMap()) {
    return std::nullopt;
  }
  RetryPolicy r;
  if (const Node* x = n.find("max")) {
    if (auto v = c_.integer(*x, "'max' of " + what, 1, 100)) r.maxAttempts = static_cast<int>(*v);
  }
  if (const Node* x = n.find("backoff")) {
    if (auto v = c_.string(*x, "'backoff' of " + what)) {
      if (*v == "fixed") {
        r.backoff = RetryPolicy::Backoff::kFixed;
      } else if (*v == "exponential") {
        r.backoff = RetryPolicy::Backoff::kExponential;
      } else {
        c_.error(*x, DiagnosticCategory::kSchema, "'backoff' of " + what + " must be 'fixed' or 'exponential'");
      }
    }
  }
  if (const Node* x = n.find("initial")) {
    if (auto d = c_.duration(*x, "'initial' of " + what)) r.initial = *d;
  }
  if (const Node* x = n.find("max_delay")) {
    if (auto d = c_.duration(*x, "'max_delay' of " + what)) r.maxDelay = *d;
  }
  if (const Node* x = n.find("jitter")) {
    if (auto b = c_.boolean(*x, "'jitter' of " + what)) r.jitter = *b;
  }
  if (r.maxDelay < r.initial) {
    c_.error(n, DiagnosticCategory::kSemantic, "'max_delay' of " + what + " is shorter than 'initial'");
  }
  return r;
}

void Builder::parseKind(std::string_view kind, const Node& n, Step& s, StepIndex self) {
  const Node& body = *n.find(kind);
  std::string what = stepWhat(s);
  if (kind == "uses") {
    UsesStep u;
    if (auto v = c_.string(body, "'uses' of " + what)) {
      static const std::regex kAction("([a-z][a-z0-9_-]*)\\.([a-z][a-z0-9_]*)");
      std::smatch m;
      if (std::regex_match(*v, m, kAction)) {
        u.connector = m[1];
        u.action = m[2];
      } else {
        c_.error(body, DiagnosticCategory::kSchema, "'uses' of " + what + " must be CONNECTOR.ACTION, got '" + *v + "'");
      }
    }
    if (const Node* w = n.find("with")) {
      if (c_.requireMap(*w, "'with' of " + what)) {
        const size_t before = stepUses_[self].size();
        u.with = compileValue(*w, "'with' of " + what, &stepUses_[self]);
        for (size_t i = before; i < stepUses_[self].size(); ++i) stepUses_[self][i].secretsAllowed = true;
      }
    }
    s.body = std::move(u);
  } else if (kind == "parallel") {
    ParallelStep p;
    if (c_.requireList(body, "'parallel' of " + what)) {
      if (body.items.size() < 2) {
        c_.error(body, DiagnosticCategory::kSchema, "'parallel' of " + what + " needs at least 2 branches");
      }
      p.branches = parseStepList(body, self, "'parallel' of " + what);
    }
    s.body = std::move(p);
  } else if (kind == "foreach") {
    ForeachStep f;
    if (body.isScalar()) {
      OffsetMap where;
      if (auto e = c_.expression(body, "'foreach' of " + what, &where)) {
        stepUses_[self].push_back(ExprUse{*e, where, "'foreach' of " + what});
        auto t = Template::parse("${{ " + e->text() + " }}", c_.exprLimits());
        f.items = std::get<Template>(std::move(t));
      }
    } else {
      c_.error(body, DiagnosticCategory::kSchema, "'foreach' of " + what + " must be an expression giving a list");
    }
    if (const Node* a = n.find("as")) {
      if (auto v = c_.string(*a, "'as' of " + what)) {
        static const std::regex kIdent("[a-z_][a-z0-9_]{0,31}");
        static const std::vector<std::string> kReserved = {"inputs", "steps", "run", "error", "index", "true", "false", "null", "in"};
        if (!std::regex_match(*v, kIdent)) {
          c_.error(*a, DiagnosticCategory::kSchema, "'as' of " + what + " must be a lower-case identifier");
        } else if (std::find(kReserved.begin(), kReserved.end(), *v) != kReserved.end()) {
          c_.error(*a, DiagnosticCategory::kSemantic, "'as' of " + what + " cannot be the reserved name '" + *v + "'");
        } else {
          f.as = *v;
        }
      }
    }
    if (const Node* cn = n.find("concurrency")) {
      if (auto v = c_.integer(*cn, "'concurrency' of " + what, 1, 1000)) f.concurrency = static_cast<int>(*v);
    }
    foreachBindings_[self] = {f.as, "index"};
    if (const Node* st = n.find("steps")) {
      if (c_.requireList(*st, "'steps' of " + what)) {
        if (st->items.empty()) c_.error(*st, DiagnosticCategory::kSchema, "'steps' of " + what + " must not be empty");
        f.body = parseStepList(*st, self, "'steps' of " + what);
      }
    } else {
      c_.error(n, DiagnosticCategory::kSchema, "missing required key 'steps' in " + what);
    }
    s.body = std::move(f);
  } else if (kind == "switch") {
    SwitchStep sw;
    if (c_.checkMap(body, {"cases", "default"}, {"cases"}, "'switch' of " + what) || body.isMap()) {
      if (const Node* cases = body.find("cases"); cases && c_.requireList(*cases, "'cases' of " + what)) {
        for (const auto& cs : cases->items) {
          if (!c_.checkMap(cs, {"when", "steps"}, {"when", "steps"}, "a case of " + what) && !cs.isMap()) continue;
          std::optional<Expression> when;
          if (const Node* w = cs.find("when")) {
            OffsetMap where;
            when = c_.expression(*w, "'when' of a case of " + what, &where);
            if (when) stepUses_[self].push_back(ExprUse{*when, where, "'when' of a case of " + what});
          }
          std::vector<StepIndex> caseSteps;
          if (const Node* st = cs.find("steps")) caseSteps = parseStepList(*st, self, "'steps' of a case of " + what);
          if (when) sw.cases.push_back(SwitchStep::Case{std::move(*when), std::move(caseSteps)});
        }
      }
      if (const Node* d = body.find("default")) sw.otherwise = parseStepList(*d, self, "'default' of " + what);
    }
    s.body = std::move(sw);
  } else if (kind == "call") {
    CallStep cs;
    if (auto v = c_.string(body, "'call' of " + what)) {
      if (v->empty()) c_.error(body, DiagnosticCategory::kSemantic, "'call' of " + what + " must name a workflow");
      cs.workflow = *v;
    }
    if (const Node* w = n.find("with")) {
      if (c_.requireMap(*w, "'with' of " + what)) {
        cs.with = compileValue(*w, "'with' of " + what, &stepUses_[self]);
      } else {
        // Kept as written (not a map) so the checks across workflows can tell a bad 'with',
        // already reported, from a call that passes nothing.
        cs.with = ValueTemplate(yaml::toJson(*w), {});
      }
    }
    s.body = std::move(cs);
  } else if (kind == "set") {
    SetStep st;
    if (c_.requireMap(body, "'set' of " + what)) {
      st.values = compileValue(body, "'set' of " + what, &stepUses_[self]);
      for (const auto& [k, v] : body.entries) setKeys_[s.id].insert(k.scalar);
    }
    s.body = std::move(st);
  } else if (kind == "decide") {
    parseDecide(body, s, self);
  } else if (kind == "approval") {
    parseApproval(body, s, self);
  } else if (kind == "wait") {
    WaitStep w;
    if (body.isScalar()) {
      w.duration = c_.duration(body, "'wait' of " + what);
    } else if (c_.checkMap(body, {"until"}, {"until"}, "'wait' of " + what) || (body.isMap() && body.find("until"))) {
      const Node& u = *body.find("until");
      OffsetMap where;
      if (auto e = c_.expression(u, "'until' of " + what, &where)) {
        stepUses_[self].push_back(ExprUse{*e, where, "'until' of " + what});
        w.until = std::get<Template>(Template::parse("${{ " + e->text() + " }}", c_.exprLimits()));
      }
    }
    s.body = std::move(w);
  }
}

ValueTemplate Builder::compileValue(const Node& n, const std::string& what, std::vector<ExprUse>* uses) {
  std::vector<ValueTemplate::Slot> slots;
  Json literal = compileInto(n, "", what, slots, uses, 0);
  return ValueTemplate(std::move(literal), std::move(slots));
}

Json Builder::compileInto(const Node& n, const std::string& path, const std::string& what,
                          std::vector<ValueTemplate::Slot>& slots, std::vector<ExprUse>* uses, int depth) {
  if (n.isMap()) {
    Json o = Json::object();
    for (const auto& [k, v] : n.entries) {
      o[k.scalar] = compileInto(v, path + "/" + escapePointer(k.scalar), what, slots, uses, depth + 1);
    }
    return o;
  }
  if (n.isSequence()) {
    Json a = Json::array();
    for (size_t i = 0; i < n.items.size(); ++i) {
      a.push_back(compileInto(n.items[i], path + "/" + std::to_string(i), what, slots, uses, depth + 1));
    }
    return a;
  }
  Json v = yaml::scalarValue(n);
  if (v.is_string() && Template::hasExpressions(v.get_ref<const std::string&>())) {
    OffsetMap where;
    if (auto t = c_.templ(n, what, &where)) {
      addTemplateUses(*t, where, what, uses);
      slots.push_back(ValueTemplate::Slot{Json::json_pointer(path), std::move(*t)});
    }
  }
  return v;
}

void Builder::addTemplateUses(const Template& t, const OffsetMap& where, const std::string& what,
                              std::vector<ExprUse>* uses) {
  for (const auto& part : t.parts()) {
    if (!part.expr) continue;
    size_t base = part.offset;
    uses->push_back(ExprUse{*part.expr, [where, base](size_t off) { return where(base + off); }, what});
  }
}

}  // namespace vigil::loader

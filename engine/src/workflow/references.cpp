// Reference checks: every path in every expression names something that exists and that
// has certainly run (or is bound) at the point where the expression is evaluated.
#include <algorithm>
#include <cctype>
#include <set>

#include "builder.h"

namespace vigil::loader {
namespace {

const std::vector<std::string_view> kStepFields = {"output", "status", "error", "started_at", "finished_at", "attempts"};
const std::vector<std::string_view> kApprovalFields = {"output", "status", "error", "started_at", "finished_at",
                                                       "attempts", "decision", "reason", "decided_by", "approvers"};
const std::vector<std::string_view> kRunFields = {"id", "started_by", "workflow", "version", "started_at"};
const std::vector<std::string_view> kDecideOutput = {"score", "band", "fired"};

std::string hint(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string h = didYouMean(word, candidates);
  return h.empty() ? "" : " (did you mean '" + h + "'?)";
}

// A suggestion when one is close, else the whole (short) list of what there is.
std::string hintOrList(std::string_view word, const std::vector<std::string_view>& candidates, std::string_view verb) {
  std::string h = hint(word, candidates);
  if (!h.empty() || candidates.empty()) {
    return h;
  }
  std::string list;
  for (auto c : candidates) list += (list.empty() ? "" : ", ") + std::string(c);
  return " (it " + std::string(verb) + " " + list + ")";
}

}  // namespace

struct Builder::Visible {
  std::set<StepIndex> done;
  std::vector<std::string> bindings;
};

void Builder::checkReferences() {
  Visible top;
  walk(wf_.topLevel, top);
  for (const auto& use : outputUses_) {
    checkUse(use, top, Scope::kOutputs, std::nullopt);
  }
  // The reference is computed before the first step: from the inputs and the run alone.
  for (const auto& use : referenceUses_) {
    bool readsSteps = false;
    for (const auto& ref : use.expr.paths()) {
      if (ref.segments[0] != "steps") continue;
      c_.error(use.where(ref.offset), DiagnosticCategory::kSemantic,
               "'reference' is computed when the run starts, from its inputs: it cannot read steps");
      readsSteps = true;
    }
    if (!readsSteps) checkUse(use, Visible{}, Scope::kOutputs, std::nullopt);
  }
  Visible all;
  for (StepIndex s : wf_.topLevel) {
    addCompleted(s, all);
  }
  for (const auto& use : sensitiveUses_) {
    checkUse(use, all, Scope::kAnywhere, std::nullopt);
  }
  if (!wf_.onError.empty()) {
    Visible handler = all;
    handler.bindings.push_back("error");
    walk(wf_.onError, handler);
  }
  deriveSensitive();  // before the summaries, so a copy of a sensitive value counts too
  checkSummaries();
}

std::string Builder::sensitiveReadBy(const Template& t) const {
  for (const auto& part : t.parts()) {
    if (!part.expr) continue;
    for (const auto& ref : part.expr->paths()) {
      std::string path;
      for (const auto& seg : ref.segments) path += (path.empty() ? "" : ".") + seg;
      for (const auto& sens : wf_.sensitive) {
        const bool under = path == sens || path.rfind(sens + ".", 0) == 0;
        const bool holds = sens.rfind(path + ".", 0) == 0;
        if (under || holds) return "'" + path + "', which " + (under ? "is sensitive" : "holds the sensitive '" + sens + "'");
      }
    }
  }
  return "";
}

// A task's summary and a run's reference are shown unmasked in every list: they may not
// read a sensitive value (or an object holding one), which would put a child's name there.
void Builder::checkSummaries() {
  for (const auto& step : wf_.steps) {
    const auto* a = std::get_if<ApprovalStep>(&step.body);
    if (a == nullptr || !a->summary) continue;
    if (std::string read = sensitiveReadBy(*a->summary); !read.empty()) {
      c_.error(step.pos, DiagnosticCategory::kSemantic,
               "the 'summary' of step '" + step.id + "' reads " + read +
                   ": every list shows the summary unmasked, so leave personal data out");
    }
  }
  if (wf_.reference) {
    if (std::string read = sensitiveReadBy(*wf_.reference); !read.empty()) {
      c_.error(wf_.referencePos, DiagnosticCategory::kSemantic,
               "'reference' reads " + read + ": every runs list shows the reference unmasked, so leave personal data out");
    }
  }
}

void Builder::walk(const std::vector<StepIndex>& list, Visible& v) {
  for (StepIndex s : list) {
    for (const auto& use : stepUses_[s]) {
      checkUse(use, v, Scope::kStep, s);
    }
    const Step& step = wf_.steps[s];
    if (const auto* p = std::get_if<ParallelStep>(&step.body)) {
      for (StepIndex b : p->branches) {
        Visible branch = v;
        walk({b}, branch);
      }
    } else if (const auto* f = std::get_if<ForeachStep>(&step.body)) {
      Visible body = v;
      for (const auto& name : foreachBindings_[s]) body.bindings.push_back(name);
      walk(f->body, body);
    } else if (const auto* sw = std::get_if<SwitchStep>(&step.body)) {
      for (const auto& c : sw->cases) {
        Visible branch = v;
        walk(c.steps, branch);
      }
      Visible branch = v;
      walk(sw->otherwise, branch);
    }
    if (!step.onError.steps.empty()) {
      Visible handler = v;
      handler.done.insert(s);
      handler.bindings.push_back("error");
      walk(step.onError.steps, handler);
    }
    addCompleted(s, v);
  }
}

void Builder::addCompleted(StepIndex s, Visible& v) const {
  v.done.insert(s);
  // Steps are numbered in pre-order, so a step's descendants directly follow it.
  for (StepIndex i = s + 1; i < wf_.steps.size(); ++i) {
    bool descendant = false;
    bool hidden = false;
    for (auto p = wf_.steps[i].parent; p; p = wf_.steps[*p].parent) {
      if (wf_.steps[*p].kind() == StepKind::kForeach) hidden = true;
      if (*p == s) {
        descendant = true;
        break;
      }
    }
    if (!descendant) break;
    if (!hidden) v.done.insert(i);
  }
}

bool Builder::insideForeach(StepIndex s, StepIndex* foreachOut) const {
  for (auto p = wf_.steps[s].parent; p; p = wf_.steps[*p].parent) {
    if (wf_.steps[*p].kind() == StepKind::kForeach) {
      *foreachOut = *p;
      return true;
    }
  }
  return false;
}

// Why `root` is not a name here: it may be bound somewhere else, or be a misspelling.
std::string Builder::unknownNameHint(const std::string& root, const std::vector<std::string_view>& roots,
                                     std::optional<StepIndex> at) const {
  if (root == "error") {
    return " ('error' is only available in on_error handlers)";
  }
  StepIndex enclosing = 0;
  if (root == "item" && at && insideForeach(*at, &enclosing)) {
    const auto& f = std::get<ForeachStep>(wf_.steps[enclosing].body);
    return " (foreach '" + wf_.steps[enclosing].id + "' names its item '" + f.as + "')";
  }
  if (root == "item" || root == "index") {
    return " (only available inside a foreach)";
  }
  for (const auto& [f, names] : foreachBindings_) {
    if (std::find(names.begin(), names.end(), root) != names.end()) {
      return " (only available inside foreach '" + wf_.steps[f].id + "')";
    }
  }
  return hint(root, roots);
}

// `steps.child-lookup.output` reads as `steps.child - lookup.output`: when the text after
// an unknown step name continues into a step id with '-', returns that id.
std::string Builder::dashedStepId(const ExprUse& use, const PathRef& ref) const {
  const std::string& text = use.expr.text();
  size_t start = ref.segmentOffsets[1];
  size_t end = start + ref.segments[1].size();
  if (end >= text.size() || text[end] != '-') {
    return "";
  }
  std::string best;
  for (const auto& [id, idx] : ids_) {
    if (id.size() > best.size() && text.compare(start, id.size(), id) == 0 &&
        (start + id.size() == text.size() ||
         (!std::isalnum(static_cast<unsigned char>(text[start + id.size()])) && text[start + id.size()] != '_'))) {
      best = id;
    }
  }
  return best;
}

// Why a step that exists has not run where it is referenced.
std::string Builder::notRunReason(StepIndex target, std::optional<StepIndex> at) const {
  const std::string& name = wf_.steps[target].id;
  if (at && *at == target) {
    return "step '" + name + "' refers to itself";
  }
  // The nearest parallel or switch holding both steps in different branches.
  std::set<StepIndex> atAncestors;
  for (auto p = at; p; p = wf_.steps[*p].parent) atAncestors.insert(*p);
  for (std::optional<StepIndex> p = target; p && at; p = wf_.steps[*p].parent) {
    if (atAncestors.count(*p) == 0) continue;
    if (*p == target || *p == *at) break;  // one holds the other: not separate branches
    const Step& shared = wf_.steps[*p];
    if (shared.kind() == StepKind::kParallel) {
      return "step '" + name + "' runs in parallel with this one (both are branches of '" + shared.id +
             "'), so it has not finished here";
    }
    if (shared.kind() == StepKind::kSwitch) {
      return "step '" + name + "' is in another branch of switch '" + shared.id + "', which does not run here";
    }
    break;
  }
  return "step '" + name + "' is referenced before it can have run";
}

void Builder::checkUse(const ExprUse& use, const Visible& v, Scope scope, std::optional<StepIndex> at) {
  std::vector<std::string_view> roots = {"inputs", "steps", "run"};
  for (const auto& b : v.bindings) roots.push_back(b);
  for (const auto& b : use.bindings) roots.push_back(b);
  size_t skipUntil = 0;  // paths inside a dashed step id already reported
  for (const auto& ref : use.expr.paths()) {
    if (ref.offset < skipUntil) continue;
    const std::string& root = ref.segments[0];
    SourcePos pos = use.where(ref.offset);
    if (root == "secrets" && std::find(roots.begin(), roots.end(), root) == roots.end()) {
      if (!use.secretsAllowed) {
        c_.error(pos, DiagnosticCategory::kSemantic,
                 use.what + ": secrets can only be used in the 'with' of a step that calls a connector");
      } else if (ref.segments.size() != 2) {
        c_.error(pos, DiagnosticCategory::kSemantic, use.what + ": write a secret as secrets.NAME");
      } else {
        wf_.secrets[ref.segments[1]] = secretMarker(ref.segments[1]);
      }
      continue;
    }
    if (std::find(roots.begin(), roots.end(), root) == roots.end()) {
      c_.error(pos, DiagnosticCategory::kSemantic,
               use.what + ": unknown name '" + root + "'" + unknownNameHint(root, roots, at));
      continue;
    }
    if (ref.segments.size() < 2) continue;
    const std::string& name = ref.segments[1];
    SourcePos namePos = use.where(ref.segmentOffsets[1]);
    if (root == "inputs") {
      auto it = wf_.inputs.find(name);
      if (it == wf_.inputs.end()) {
        std::vector<std::string_view> names;
        for (const auto& [k, t] : wf_.inputs) names.push_back(k);
        c_.error(namePos, DiagnosticCategory::kSemantic, use.what + ": unknown input '" + name + "'" + hint(name, names));
        continue;
      }
      // Follow declared properties as far as they are declared.
      const TypeSpec* t = &it->second;
      for (size_t i = 2; i < ref.segments.size() && t->type == "object" && !t->properties.empty(); ++i) {
        auto pt = t->properties.find(ref.segments[i]);
        if (pt == t->properties.end()) {
          std::vector<std::string_view> names;
          for (const auto& [k, x] : t->properties) names.push_back(k);
          c_.error(use.where(ref.segmentOffsets[i]), DiagnosticCategory::kSemantic,
                   use.what + ": unknown field '" + ref.segments[i] + "' of " + ref.segments[i - 1] +
                       hint(ref.segments[i], names));
          break;
        }
        t = &pt->second;
      }
    } else if (root == "run") {
      if (std::find(kRunFields.begin(), kRunFields.end(), name) == kRunFields.end()) {
        c_.error(namePos, DiagnosticCategory::kSemantic, use.what + ": unknown field '" + name + "' of run" + hint(name, kRunFields));
      }
    } else if (root == "steps") {
      auto it = ids_.find(name);
      if (it == ids_.end()) {
        if (std::string dashed = dashedStepId(use, ref); !dashed.empty()) {
          c_.error(namePos, DiagnosticCategory::kSemantic,
                   use.what + ": write steps['" + dashed + "'] for step '" + dashed +
                       "': in an expression '-' is minus, so steps." + dashed + " reads as a subtraction");
          skipUntil = ref.segmentOffsets[1] + dashed.size();
          continue;
        }
        std::vector<std::string_view> names;
        for (const auto& [k, x] : ids_) names.push_back(k);
        c_.error(namePos, DiagnosticCategory::kSemantic, use.what + ": unknown step '" + name + "'" + hint(name, names));
        continue;
      }
      StepIndex target = it->second;
      if (v.done.count(target) == 0) {
        StepIndex f = 0;
        bool atInside = false;
        if (insideForeach(target, &f)) {
          for (auto p = at; p; p = wf_.steps[*p].parent) {
            if (*p == f) atInside = true;
          }
        }
        if (insideForeach(target, &f) && !atInside) {
          c_.error(namePos, DiagnosticCategory::kSemantic,
                   use.what + ": step '" + name + "' runs inside foreach '" + wf_.steps[f].id +
                       "' and cannot be referenced outside it");
        } else {
          c_.error(namePos, DiagnosticCategory::kSemantic, use.what + ": " + notRunReason(target, at));
        }
        continue;
      }
      checkStepField(ref, use, target);
    }
  }
  (void)scope;
}

void Builder::checkStepField(const PathRef& ref, const ExprUse& use, StepIndex target) {
  if (ref.segments.size() < 3) return;
  const Step& t = wf_.steps[target];
  const std::string& field = ref.segments[2];
  const auto& fields = t.kind() == StepKind::kApproval ? kApprovalFields : kStepFields;
  if (std::find(fields.begin(), fields.end(), field) == fields.end()) {
    c_.error(use.where(ref.segmentOffsets[2]), DiagnosticCategory::kSemantic,
             use.what + ": unknown field '" + field + "' of step '" + t.id + "'" + hint(field, fields));
    return;
  }
  if (field != "output" || ref.segments.size() < 4) return;
  const std::string& key = ref.segments[3];
  SourcePos pos = use.where(ref.segmentOffsets[3]);
  if (t.kind() == StepKind::kSet) {
    const auto& keys = setKeys_[t.id];
    if (keys.count(key) == 0) {
      std::vector<std::string_view> names(keys.begin(), keys.end());
      c_.error(pos, DiagnosticCategory::kSemantic,
               use.what + ": step '" + t.id + "' sets no output '" + key + "'" + hintOrList(key, names, "sets"));
    }
  } else if (t.kind() == StepKind::kDecide) {
    if (std::find(kDecideOutput.begin(), kDecideOutput.end(), key) == kDecideOutput.end()) {
      c_.error(pos, DiagnosticCategory::kSemantic,
               use.what + ": decide step '" + t.id + "' has no output '" + key + "' (it has score, band, fired)");
    }
  } else if (t.kind() == StepKind::kApproval) {
    const auto& a = std::get<ApprovalStep>(t.body);
    std::vector<std::string_view> names = {"decision", "reason", "decided_by", "approvers", "rating"};
    for (const auto& [k, x] : a.form) names.push_back(k);
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      c_.error(pos, DiagnosticCategory::kSemantic,
               use.what + ": approval step '" + t.id + "' has no output '" + key + "'" + hintOrList(key, names, "has"));
    }
  }
}

std::string Builder::staticType(const PathRef& ref) const {
  const auto& seg = ref.segments;
  auto declared = [](const std::string& type) -> std::string {
    if (type == "any") return "";
    if (type == "integer") return "number";
    return type == "array" ? "list" : type;
  };
  if (seg[0] == "inputs" && seg.size() >= 2) {
    auto it = wf_.inputs.find(seg[1]);
    if (it == wf_.inputs.end()) return "";
    const TypeSpec* t = &it->second;
    for (size_t i = 2; i < seg.size(); ++i) {
      auto p = t->properties.find(seg[i]);
      if (t->type != "object" || p == t->properties.end()) return "";
      t = &p->second;
    }
    return declared(t->type);
  }
  if (seg[0] == "run" && seg.size() == 2) {
    if (seg[1] == "version") return "number";
    return std::find(kRunFields.begin(), kRunFields.end(), seg[1]) != kRunFields.end() ? "string" : "";
  }
  if (seg[0] != "steps" || seg.size() < 3) return "";
  auto it = ids_.find(seg[1]);
  if (it == ids_.end()) return "";
  const Step& t = wf_.steps[it->second];
  const std::string& field = seg[2];
  const bool approval = t.kind() == StepKind::kApproval;
  if (seg.size() == 3) {
    if (field == "status" || field == "started_at" || field == "finished_at") return "string";
    if (field == "attempts") return "number";
    if (approval && (field == "decision" || field == "reason" || field == "decided_by")) return "string";
    if (approval && field == "approvers") return "list";
    return "";
  }
  if (field != "output" || seg.size() != 4) return "";
  const std::string& key = seg[3];
  if (t.kind() == StepKind::kDecide) {
    return key == "score" ? "number" : key == "band" ? "string" : key == "fired" ? "list" : "";
  }
  if (approval) {
    if (key == "decision" || key == "reason" || key == "decided_by") return "string";
    if (key == "approvers") return "list";
    const auto& form = std::get<ApprovalStep>(t.body).form;
    auto f = form.find(key);
    return f == form.end() ? "" : declared(f->second.type);
  }
  if (t.kind() == StepKind::kSet) {
    const ValueTemplate& values = std::get<SetStep>(t.body).values;
    if (!values.literal().is_object() || !values.literal().contains(key)) return "";
    for (const auto& slot : values.slots()) {
      // `${{ x }}` alone keeps the expression's type, which is not known; text around it makes a string.
      if (!slot.where.empty() && slot.where.parent_pointer().empty() && slot.where.back() == key) {
        return slot.tmpl.isSingleExpression() ? "" : "string";
      }
    }
    return declared(values.literal()[key].type_name());
  }
  return "";
}

}  // namespace vigil::loader

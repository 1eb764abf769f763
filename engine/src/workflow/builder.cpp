// Workflow-level parsing: the top-level keys, inputs, triggers, outputs, sensitive paths.
#include "builder.h"

#include <regex>

namespace vigil::loader {
namespace {

const std::vector<std::string_view> kTopKeys = {"workflow", "version", "description", "owner", "cancel", "need_to_know", "not_sensitive", "retention", "reference", "inputs", "outputs",
                                                "sensitive", "triggers", "steps", "on_error"};
const std::vector<std::string_view> kTypeNames = {"string", "number", "integer", "boolean", "object", "array", "any"};

bool validName(const std::string& s) {
  static const std::regex kName("[a-z][a-z0-9-]{0,62}");
  return std::regex_match(s, kName);
}

}  // namespace

void Builder::build(const Node& root) {
  if (!c_.checkMap(root, kTopKeys, {"workflow", "version", "owner", "steps"}, "the workflow")) {
    if (!root.isMap()) {
      return;
    }
  }
  if (const Node* n = root.find("workflow")) {
    if (auto s = c_.string(*n, "'workflow'")) {
      if (!validName(*s)) {
        c_.error(*n, DiagnosticCategory::kSchema,
                 "workflow name '" + *s + "' must be lower-case letters, digits and '-', starting with a letter");
      }
      wf_.name = *s;
    }
  }
  if (const Node* n = root.find("version")) {
    if (auto v = c_.integer(*n, "'version'", 1, 1000000)) {
      wf_.version = static_cast<int>(*v);
    }
  }
  if (const Node* n = root.find("description")) {
    if (auto s = c_.string(*n, "'description'")) wf_.description = *s;
  }
  if (const Node* n = root.find("cancel")) {
    if (auto s = c_.string(*n, "'cancel'")) {
      if (*s == "single") {
        wf_.cancel = Workflow::CancelPolicy::kSingle;
      } else if (*s != "confirm") {
        c_.error(*n, DiagnosticCategory::kSchema, "'cancel' must be 'confirm' (a second person confirms) or 'single'");
      }
    }
  }
  if (const Node* n = root.find("owner")) {
    if (auto s = c_.string(*n, "'owner'")) wf_.owner = *s;
    wf_.ownerPos = {n->line, n->column};
  }
  if (const Node* n = root.find("need_to_know")) {
    if (auto v = c_.stringList(*n, "'need_to_know'", true)) wf_.needToKnow = *v;
  }
  if (const Node* n = root.find("retention")) {
    // Days, weeks or years: how long a finished run's personal data is kept.
    static const std::regex kRetention("([1-9][0-9]{0,4})([dwy])");
    std::smatch m;
    auto s = c_.string(*n, "'retention'");
    if (s && std::regex_match(*s, m, kRetention)) {
      const int count = std::stoi(m[1].str());
      const int days = count * (m[2].str() == "d" ? 1 : m[2].str() == "w" ? 7 : 365);
      if (days > 36500) {
        c_.error(*n, DiagnosticCategory::kSchema, "'retention' of more than 100 years is not a retention period");
      } else {
        wf_.retentionDays = days;
      }
    } else if (s) {
      c_.error(*n, DiagnosticCategory::kSchema, "'retention' must be a number of days, weeks or years, such as 90d, 52w or 2y");
    }
  }
  if (const Node* n = root.find("inputs")) parseInputs(*n);
  if (const Node* n = root.find("triggers")) parseTriggers(*n);
  if (const Node* n = root.find("steps")) {
    if (c_.requireList(*n, "'steps'")) {
      if (n->items.empty()) {
        c_.error(*n, DiagnosticCategory::kSchema, "'steps' must not be empty");
      }
      wf_.topLevel = parseStepList(*n, std::nullopt, "'steps'");
    }
  }
  if (const Node* n = root.find("on_error")) {
    if (c_.requireList(*n, "workflow 'on_error'")) {
      wf_.onError = parseStepList(*n, std::nullopt, "workflow 'on_error'");
    }
  }
  if (const Node* n = root.find("outputs")) parseOutputs(*n);
  if (const Node* n = root.find("reference")) {
    OffsetMap where;
    if (!n->isScalar()) {
      c_.error(*n, DiagnosticCategory::kSchema, "'reference' must be a one-line text, such as \"${{ inputs.referral.id }}\"");
    } else if (auto t = c_.templ(*n, "'reference'", &where)) {
      addTemplateUses(*t, where, "'reference'", &referenceUses_);
      wf_.reference = std::move(t);
      wf_.referencePos = {n->line, n->column};
    }
  }
  if (const Node* n = root.find("sensitive")) parseSensitive(*n, false);
  if (const Node* n = root.find("not_sensitive")) parseSensitive(*n, true);
  checkReferences();
  checkScores();
}

void Builder::parseInputs(const Node& n) {
  if (!c_.requireMap(n, "'inputs'")) {
    return;
  }
  for (const auto& [k, v] : n.entries) {
    static const std::regex kIdent("[a-zA-Z_][a-zA-Z0-9_]{0,63}");
    if (!std::regex_match(k.scalar, kIdent)) {
      c_.error(k, DiagnosticCategory::kSchema, "input name '" + k.scalar + "' must be letters, digits and '_'");
      continue;
    }
    // An input whose type is wrong is still declared: keep it (as any) so that its uses
    // are not also reported as unknown inputs.
    wf_.inputs[k.scalar] = parseType(v, "input '" + k.scalar + "'", 0).value_or(anyType());
  }
}

std::optional<TypeSpec> Builder::parseType(const Node& n, const std::string& what, int depth) {
  TypeSpec t;
  if (n.isScalar()) {  // shorthand: `name: string`
    auto s = c_.string(n, what);
    if (!s) return std::nullopt;
    if (std::find(kTypeNames.begin(), kTypeNames.end(), *s) == kTypeNames.end()) {
      std::string hint = didYouMean(*s, kTypeNames);
      c_.error(n, DiagnosticCategory::kSchema,
               "unknown type '" + *s + "' for " + what + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      return std::nullopt;
    }
    t.type = *s;
    return t;
  }
  if (!c_.checkMap(n, {"type", "description", "required", "properties", "items", "enum", "default"}, {"type"}, what)) {
    if (!n.isMap() || n.find("type") == nullptr) return std::nullopt;
  }
  const Node* typeNode = n.find("type");
  auto s = c_.string(*typeNode, "'type' of " + what);
  if (!s) return std::nullopt;
  if (std::find(kTypeNames.begin(), kTypeNames.end(), *s) == kTypeNames.end()) {
    std::string hint = didYouMean(*s, kTypeNames);
    c_.error(*typeNode, DiagnosticCategory::kSchema,
             "unknown type '" + *s + "' for " + what + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    return std::nullopt;
  }
  t.type = *s;
  if (const Node* d = n.find("description")) {
    if (auto ds = c_.string(*d, "'description' of " + what)) t.description = *ds;
  }
  if (const Node* p = n.find("properties")) {
    if (t.type != "object") {
      c_.error(*p, DiagnosticCategory::kSemantic, "'properties' only applies to type object, not " + t.type);
    } else if (depth >= 16) {
      c_.error(*p, DiagnosticCategory::kSemantic, "types nested deeper than 16 levels");
    } else if (c_.requireMap(*p, "'properties' of " + what)) {
      for (const auto& [pk, pv] : p->entries) {
        std::string pw = "property '" + pk.scalar + "' of " + what;
        t.properties[pk.scalar] = parseType(pv, pw, depth + 1).value_or(anyType());
      }
    }
  }
  if (const Node* r = n.find("required")) {
    if (t.type != "object") {
      c_.error(*r, DiagnosticCategory::kSemantic, "'required' only applies to type object, not " + t.type);
    } else if (auto list = c_.stringList(*r, "'required' of " + what, false)) {
      t.required = *list;
    }
  }
  if (const Node* i = n.find("items")) {
    if (t.type != "array") {
      c_.error(*i, DiagnosticCategory::kSemantic, "'items' only applies to type array, not " + t.type);
    } else if (depth < 16) {
      if (auto it = parseType(*i, "items of " + what, depth + 1)) {
        t.items = std::make_shared<TypeSpec>(std::move(*it));
      }
    }
  }
  if (const Node* e = n.find("enum")) {
    if (c_.requireList(*e, "'enum' of " + what)) {
      for (const auto& item : e->items) {
        Json v = yaml::toJson(item);
        if (!hasType(v, t.type)) {
          c_.error(item, DiagnosticCategory::kSemantic, "enum value of " + what + " is not of type " + t.type);
        }
        t.enumValues.push_back(std::move(v));
      }
    }
  }
  if (const Node* d = n.find("default")) {
    Json v = yaml::toJson(*d);
    if (!hasType(v, t.type)) {
      c_.error(*d, DiagnosticCategory::kSemantic, "default of " + what + " is not of type " + t.type);
    }
    t.defaultValue = std::move(v);
  }
  return t;
}

void Builder::parseTriggers(const Node& n) {
  if (!c_.requireList(n, "'triggers'")) {
    return;
  }
  for (const auto& item : n.items) {
    if (!c_.checkMap(item, {"cron", "webhook", "watch", "pattern", "timezone", "wait"}, {}, "trigger")) {
      if (!item.isMap()) continue;
    }
    int kinds = (item.find("cron") ? 1 : 0) + (item.find("webhook") ? 1 : 0) + (item.find("watch") ? 1 : 0);
    if (kinds != 1) {
      c_.error(item, DiagnosticCategory::kSchema, "a trigger needs exactly one of 'cron', 'webhook' or 'watch'");
      continue;
    }
    Trigger t;
    t.pos = {item.line, item.column};
    if (const Node* cn = item.find("cron")) {
      auto s = c_.string(*cn, "'cron'");
      if (!s) continue;
      std::string err;
      size_t off = 0;
      auto cron = CronSchedule::parse(*s, &err, &off);
      if (!cron) {
        c_.error(c_.offsetMap(*cn)(off), DiagnosticCategory::kSemantic, "bad cron expression: " + err);
        continue;
      }
      t.kind = Trigger::Kind::kCron;
      t.spec = *s;
      t.cron = std::move(cron);
      // A scheduled run starts with no inputs: every input needs a default, or each firing
      // would fail at the schedule rather than here.
      for (const auto& [name, spec] : wf_.inputs) {
        if (!spec.defaultValue) {
          c_.error(*cn, DiagnosticCategory::kSemantic,
                   "a 'cron' trigger starts runs with no inputs, but input '" + name + "' has no default");
        }
      }
    } else if (const Node* wn = item.find("webhook")) {
      auto s = c_.string(*wn, "'webhook'");
      if (!s) continue;
      static const std::regex kPath("/[a-z0-9/_-]{1,127}");
      if (!std::regex_match(*s, kPath)) {
        c_.error(*wn, DiagnosticCategory::kSchema, "webhook path '" + *s + "' must start with '/' and use a-z, 0-9, '/', '_', '-'");
        continue;
      }
      t.kind = Trigger::Kind::kWebhook;
      t.spec = *s;
    } else if (const Node* fn = item.find("watch")) {
      auto s = c_.string(*fn, "'watch'");
      if (!s) continue;
      t.kind = Trigger::Kind::kWatch;
      t.spec = *s;
    }
    if (const Node* tz = item.find("timezone")) {
      if (t.kind != Trigger::Kind::kCron) {
        c_.error(*tz, DiagnosticCategory::kSemantic, "'timezone' only applies to a 'cron' trigger");
      } else if (auto s = c_.string(*tz, "'timezone'")) {
        // A malformed name is structure (the JSON Schema checks it too); an unknown one is meaning.
        auto zone = TimeZone::load(*s);
        if (!TimeZone::validName(*s)) {
          c_.error(*tz, DiagnosticCategory::kSchema, zone.status().message());
        } else if (!zone) {
          c_.error(*tz, DiagnosticCategory::kSemantic, zone.status().message());
        } else {
          t.zone = std::move(zone).value();
        }
      }
    }
    if (const Node* w = item.find("wait")) {
      if (t.kind != Trigger::Kind::kWebhook) {
        c_.error(*w, DiagnosticCategory::kSemantic, "'wait' only applies to a 'webhook' trigger");
      } else if (auto d = c_.duration(*w, "'wait'")) {
        // The same bounds as POST /api/v1/runs?wait=: a delivery holds a connection open.
        if (*d < Millis(1000) || *d > Millis(120000)) {
          c_.error(*w, DiagnosticCategory::kSemantic, "'wait' must be from 1s to 120s (a delivery holds a connection open)");
        } else {
          t.wait = *d;
        }
      }
    }
    if (const Node* p = item.find("pattern")) {
      if (t.kind != Trigger::Kind::kWatch) {
        c_.error(*p, DiagnosticCategory::kSemantic, "'pattern' only applies to a 'watch' trigger");
      } else if (auto s = c_.string(*p, "'pattern'")) {
        t.pattern = *s;
      }
    }
    wf_.triggers.push_back(std::move(t));
  }
}

void Builder::parseOutputs(const Node& n) {
  if (!c_.requireMap(n, "'outputs'")) {
    return;
  }
  for (const auto& [k, v] : n.entries) {
    wf_.outputs[k.scalar] = compileValue(v, "output '" + k.scalar + "'", &outputUses_);
  }
}

void Builder::parseSensitive(const Node& n, bool declassify) {
  const std::string key = declassify ? "'not_sensitive'" : "'sensitive'";
  auto list = c_.stringList(n, key, false);
  if (!list) {
    return;
  }
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Node& item = n.items[i];
    OffsetMap where;
    auto e = c_.expression(item, declassify ? "not_sensitive path" : "sensitive path", &where);
    if (!e) continue;
    const auto& paths = e->paths();
    if (paths.size() != 1 || paths[0].segments.size() < 2 ||
        (paths[0].segments[0] != "inputs" && paths[0].segments[0] != "steps")) {
      c_.error(item, DiagnosticCategory::kSemantic,
               std::string(declassify ? "not_sensitive" : "sensitive") + " path '" + item.scalar + "' must be a path under inputs. or steps.");
      continue;
    }
    if (declassify) {
      wf_.notSensitive.push_back(item.scalar);
    } else {
      wf_.sensitive.push_back(item.scalar);
    }
    sensitiveUses_.push_back(ExprUse{std::move(*e), where, "sensitive path"});
  }
}

}  // namespace vigil::loader

// Reading REST connector definitions. The file is an admin's configuration, not workflow
// input, but it is still checked key by key with positions: a typo must not become a
// connector that silently sends the wrong request.
#include "rest_definition.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "vigil/duration.h"
#include "vigil/yaml_check.h"

namespace vigil::rest {
namespace {

// Records every problem in `problems` and goes on; each check returns false when it
// recorded one, so what depends on the value is skipped rather than reported again.
struct Reader {
  FileProblems* problems;
  void error(const YAML::Node& n, const std::string& msg) const { problems->add(n.Mark().line + 1, n.Mark().column + 1, msg); }
  // Records each key of `n` that is not `known`; false (and a problem) when `n` is no map.
  bool keys(const YAML::Node& n, const std::set<std::string>& known, const std::string& what) const {
    if (!n.IsMap()) {
      error(n, what + " must be a map");
      return false;
    }
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>("");
      if (known.count(k) == 0) {
        std::string list;
        for (const auto& x : known) list += (list.empty() ? "" : ", ") + x;
        error(kv.first, "unknown key '" + k + "' in " + what + " (known: " + list + ")");
      }
    }
    return true;
  }
  bool text(const YAML::Node& n, const std::string& what, std::string* out) const {
    if (!n.IsScalar()) {
      error(n, what + " must be text");
      return false;
    }
    *out = n.as<std::string>();
    return true;
  }
};

Json toJson(const YAML::Node& n) {
  if (n.IsMap()) {
    Json o = Json::object();
    for (const auto& kv : n) o[kv.first.as<std::string>()] = toJson(kv.second);
    return o;
  }
  if (n.IsSequence()) {
    Json a = Json::array();
    for (const auto& v : n) a.push_back(toJson(v));
    return a;
  }
  if (n.IsNull()) return nullptr;
  return n.as<std::string>();
}

// Every "{param}" a template names must be a declared parameter.
void checkPlaceholders(const Reader& r, const YAML::Node& n, const std::string& text, const Action& a, const std::string& what) {
  for (const auto& p : placeholders(text)) {
    bool declared = false;
    for (const auto& d : a.spec.params) declared = declared || d.name == p;
    if (!declared) r.error(n, what + " names '{" + p + "}', which is not one of the action's params");
  }
}

void checkBody(const Reader& r, const YAML::Node& n, const Action& a) {
  if (n.IsScalar()) {
    checkPlaceholders(r, n, n.as<std::string>(), a, "'body'");
    return;
  }
  for (const auto& kv : n) checkBody(r, n.IsMap() ? kv.second : kv, a);
}

// One action; its problems are recorded, and the action is then of no use.
Action readAction(const Reader& r, const YAML::Node& key, const YAML::Node& n) {
  static const std::regex kAction("[a-z][a-z0-9_]{0,62}");
  static const std::set<std::string> kTypes = {"string", "integer", "number", "boolean", "object", "array", "any"};
  static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  const std::string name = key.as<std::string>("");
  const std::string what = "action '" + name + "'";
  if (!std::regex_match(name, kAction)) r.error(key, "action names are lower-case identifiers, got '" + name + "'");
  Action a;
  a.spec.name = name;
  if (!r.keys(n, {"description", "access", "method", "path", "params", "query", "body", "outputs", "match"}, what)) return a;
  if (const YAML::Node desc = n["description"]; desc && desc.IsScalar()) a.spec.description = desc.as<std::string>();
  a.method = n["method"] ? n["method"].as<std::string>("") : "GET";
  if (kMethods.count(a.method) == 0) r.error(n["method"], "'method' of " + what + " must be GET, POST, PUT, PATCH or DELETE");
  a.spec.access = n["access"] ? n["access"].as<std::string>("") : (a.method == "GET" ? "consultation" : "disclosure");
  if (a.spec.access != "consultation" && a.spec.access != "disclosure" && a.spec.access != "alteration") {
    r.error(n["access"], "'access' of " + what + " must be consultation, disclosure or alteration");
  }
  bool pathRead = false;
  if (!n["path"]) {
    r.error(n, what + " needs 'path'");
  } else if (r.text(n["path"], "'path' of " + what, &a.path)) {
    pathRead = true;
    if (a.path.empty() || a.path[0] != '/') r.error(n["path"], "'path' of " + what + " must start with /");
  }
  if (const YAML::Node ps = n["params"]; ps && !ps.IsMap()) {
    r.error(ps, "'params' of " + what + " must be a map");
  } else if (ps) {
    for (const auto& p : ps) {
      ParamSpec spec;
      spec.name = p.first.as<std::string>("");
      if (!r.keys(p.second, {"type", "required", "description"}, "param '" + spec.name + "'")) continue;
      spec.type = p.second["type"] ? p.second["type"].as<std::string>("") : "string";
      if (kTypes.count(spec.type) == 0) r.error(p.second["type"], "param '" + spec.name + "' has an unknown type '" + spec.type + "'");
      spec.required = p.second["required"] && p.second["required"].as<bool>(false);
      if (p.second["description"]) spec.description = p.second["description"].as<std::string>("");
      a.spec.params.push_back(std::move(spec));
    }
  }
  if (pathRead) checkPlaceholders(r, n["path"], a.path, a, "'path'");
  if (const YAML::Node q = n["query"]; q && !q.IsMap()) {
    r.error(q, "'query' of " + what + " must be a map");
  } else if (q) {
    for (const auto& e : q) {
      a.query[e.first.as<std::string>("")] = e.second.as<std::string>("");
      checkPlaceholders(r, e.second, e.second.as<std::string>(""), a, "'query'");
    }
  }
  if (const YAML::Node b = n["body"]; b && (a.method == "GET" || a.method == "DELETE")) {
    r.error(b, what + ": a " + a.method + " request has no body");
  } else if (b) {
    checkBody(r, b, a);
    a.body = toJson(b);
  }
  if (const YAML::Node o = n["outputs"]; o && !o.IsMap()) {
    r.error(o, "'outputs' of " + what + " must be a map of name: path");
  } else if (o) {
    for (const auto& e : o) {
      const std::string out = e.first.as<std::string>("");
      const std::string path = e.second.as<std::string>("");
      if (path.rfind("json", 0) != 0 && path != "status" && path.rfind("headers.", 0) != 0) {
        r.error(e.second, "output '" + out + "' must read status, headers.NAME or json[.FIELD...]");
        continue;
      }
      a.outputs[out] = path;
      a.spec.outputs.push_back(ParamSpec{out, "any", false, ""});
    }
  }
  // A lookup that finds nobody, or several, must not read as "nothing to report".
  if (const YAML::Node m = n["match"]; m && r.keys(m, {"found", "count"}, "'match' of " + what)) {
    if (!m["found"]) {
      r.error(m, "'match' of " + what + " needs 'found': the output that is true when the system found the person");
    } else {
      a.foundOutput = m["found"].as<std::string>("");
    }
    if (m["count"]) a.countOutput = m["count"].as<std::string>("");
    for (const auto* o : {&a.foundOutput, &a.countOutput}) {
      if (!o->empty() && a.outputs.count(*o) == 0) r.error(m, "'match' of " + what + " names '" + *o + "', which is not one of its outputs");
    }
    a.spec.outputs.push_back(ParamSpec{"match", "string", false, "found, not_found or ambiguous"});
  }
  return a;
}

}  // namespace

std::vector<std::string> placeholders(const std::string& text) {
  static const std::regex kSlot("\\{([a-z][a-z0-9_]*)\\}");
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), kSlot), end; it != end; ++it) out.push_back((*it)[1]);
  return out;
}

Result<Definition> loadDefinition(const std::string& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);  // on error, the open below says so
  if (!ec && size > 1024 * 1024) return Status::invalidArgument(file + ":1:1: error: larger than 1 MiB");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::notFound(file + ":1:1: error: cannot open the connector definition");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The hardened reader first, so a key written twice (an action, a param, a header) is
  // refused rather than one of the two kept without a word; then yaml-cpp's tree.
  if (auto refused = checkYaml(text)) return Status::invalidArgument(refused->format(file));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::invalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                   ": error: " + e.msg);
  }
  FileProblems problems(file);
  const Reader r{&problems};
  if (!r.keys(root, {"connector", "description", "base_url", "auth", "timeout", "max_concurrency", "max_per_second", "actions"},
              "the connector")) {
    return problems.status();
  }
  Definition d;
  d.file = file;
  for (const char* required : {"connector", "base_url", "actions"}) {
    if (!root[required]) r.error(root, std::string("the connector needs '") + required + "'");
  }
  static const std::regex kName("[a-z][a-z0-9_-]{0,62}");
  if (root["connector"] && r.text(root["connector"], "'connector'", &d.name) && !std::regex_match(d.name, kName)) {
    r.error(root["connector"], "'connector' must be a lower-case name");
  }
  if (const YAML::Node desc = root["description"]; desc && desc.IsScalar()) d.description = desc.as<std::string>();
  if (root["base_url"] && r.text(root["base_url"], "'base_url'", &d.baseUrl)) {
    if (d.baseUrl.rfind("http://", 0) != 0 && d.baseUrl.rfind("https://", 0) != 0) {
      r.error(root["base_url"], "'base_url' must start with http:// or https://");
    }
    while (!d.baseUrl.empty() && d.baseUrl.back() == '/') d.baseUrl.pop_back();
  }
  if (const YAML::Node a = root["auth"]) {
    if (r.keys(a, {"bearer_secret", "basic_user", "basic_password_secret"}, "'auth'")) d.auth = toJson(a);
  }
  if (const YAML::Node t = root["timeout"]) {
    auto ms = parseDuration(t.as<std::string>(""));
    if (!ms || ms->count() == 0 || *ms > std::chrono::minutes(10)) {
      r.error(t, "'timeout' must be a duration up to 10m, such as 10s");
    } else {
      d.timeoutMs = ms->count();
    }
  }
  if (const YAML::Node m = root["max_concurrency"]) {
    d.maxConcurrency = m.as<int>(0);
    if (d.maxConcurrency < 1 || d.maxConcurrency > 1024) r.error(m, "'max_concurrency' must be between 1 and 1024");
  }
  if (const YAML::Node m = root["max_per_second"]) {
    d.maxPerSecond = m.as<double>(0);
    if (d.maxPerSecond <= 0) r.error(m, "'max_per_second' must be above 0");
  }
  if (const YAML::Node actions = root["actions"]) {
    if (!actions.IsMap() || actions.size() == 0) {
      r.error(actions, "'actions' must be a map of at least one action");
    } else {
      for (const auto& kv : actions) d.actions[kv.first.as<std::string>("")] = readAction(r, kv.first, kv.second);
    }
  }
  if (!problems.empty()) return problems.status();
  return d;
}

}  // namespace vigil::rest

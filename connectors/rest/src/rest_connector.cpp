// A REST connector from its YAML definition: checks a call's parameters, builds the
// request and sends it through the registered http connector (so the outbound allow-list,
// TLS, secrets and Retry-After are the http connector's), then maps the response fields.
#include "vigil/rest_connector.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "rest_definition.h"
#include "vigil/workflow.h"

namespace vigil {
namespace {

std::string urlEncode(const std::string& s) {
  std::ostringstream o;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      o << ch;
    } else {
      o << '%' << std::uppercase << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(ch);
    }
  }
  return o.str();
}

std::string textOf(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Replaces each {param}; false when one is absent.
bool fill(const std::string& tmpl, const Json& params, bool encode, std::string* out) {
  out->clear();
  size_t pos = 0;
  while (true) {
    size_t open = tmpl.find('{', pos);
    size_t close = open == std::string::npos ? std::string::npos : tmpl.find('}', open);
    if (close == std::string::npos) break;
    const std::string name = tmpl.substr(open + 1, close - open - 1);
    if (!params.contains(name) || params[name].is_null()) return false;
    out->append(tmpl, pos, open - pos);
    *out += encode ? urlEncode(textOf(params[name])) : textOf(params[name]);
    pos = close + 1;
  }
  out->append(tmpl, pos, std::string::npos);
  return true;
}

Json fillBody(const Json& tmpl, const Json& params) {
  if (tmpl.is_string()) {
    const std::string s = tmpl.get<std::string>();
    auto names = rest::placeholders(s);
    if (names.size() == 1 && s == "{" + names[0] + "}") return params.value(names[0], Json());
    std::string out;
    return fill(s, params, false, &out) ? Json(out) : Json();
  }
  if (tmpl.is_object() || tmpl.is_array()) {
    Json out = tmpl;
    for (auto it = out.begin(); it != out.end(); ++it) *it = fillBody(*it, params);
    return out;
  }
  return tmpl;
}

const Json* at(const Json& root, const std::string& path) {
  const Json* v = &root;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!v->is_object() || !v->contains(part)) return nullptr;
    v = &(*v)[part];
  }
  return v;
}

class RestConnector final : public Connector {
 public:
  RestConnector(rest::Definition d, const ConnectorRegistry* registry) : d_(std::move(d)), registry_(registry) {}

  std::vector<ActionSpec> actions() const override {
    std::vector<ActionSpec> out;
    for (const auto& [name, a] : d_.actions) out.push_back(a.spec);
    return out;
  }
  std::string description() const override { return d_.description.empty() ? "REST connector " + d_.name : d_.description; }

  CallOutcome call(const ConnectorCall& c) override {
    auto it = d_.actions.find(c.action);
    if (it == d_.actions.end()) return CallOutcome::failure("invalid_request", d_.name + " has no action '" + c.action + "'", false);
    const rest::Action& a = it->second;
    const Json params = c.input.is_null() ? Json::object() : c.input;
    if (!params.is_object()) return CallOutcome::failure("invalid_request", "parameters must be an object", false);
    for (auto p = params.begin(); p != params.end(); ++p) {
      auto spec = std::find_if(a.spec.params.begin(), a.spec.params.end(), [&](const ParamSpec& s) { return s.name == p.key(); });
      if (spec == a.spec.params.end()) {
        return CallOutcome::failure("invalid_request", d_.name + "." + a.spec.name + " has no parameter '" + p.key() + "'", false);
      }
      if (!p.value().is_null() && !hasType(p.value(), spec->type)) {
        return CallOutcome::failure("invalid_request", "parameter '" + p.key() + "' must be of type " + spec->type, false);
      }
    }
    for (const auto& spec : a.spec.params) {
      if (spec.required && (!params.contains(spec.name) || params[spec.name].is_null())) {
        return CallOutcome::failure("invalid_request", d_.name + "." + a.spec.name + " needs parameter '" + spec.name + "'", false);
      }
    }
    std::string path;
    if (!fill(a.path, params, true, &path)) return CallOutcome::failure("invalid_request", "a path parameter is missing", false);
    Json query = Json::object();
    for (const auto& [k, tmpl] : a.query) {
      std::string v;
      if (fill(tmpl, params, false, &v)) query[k] = v;
    }
    Json request = {{"method", a.method}, {"url", d_.baseUrl + path}, {"timeout_ms", d_.timeoutMs}};
    if (!query.empty()) request["query"] = query;
    if (!a.body.is_null()) request["json"] = fillBody(a.body, params);
    if (!d_.auth.is_null()) request["auth"] = d_.auth;
    auto http = registry_->find("http");
    if (http == nullptr) return CallOutcome::failure("unknown_connector", "the http connector is not configured", false);
    ConnectorCall forwarded = c;
    forwarded.action = "request";
    forwarded.input = std::move(request);
    CallOutcome o = http->call(forwarded);
    if (!o.ok || a.outputs.empty()) return o;
    Json mapped = {{"status", o.output.value("status", Json())}};
    for (const auto& [name, p] : a.outputs) {
      const Json* v = at(o.output, p);
      mapped[name] = v == nullptr ? Json() : *v;
    }
    if (!a.foundOutput.empty()) {
      // found, not_found or ambiguous: distinct outcomes, never the same as an empty answer.
      // An answer that does not say whether the person was found is an error, not a "no".
      const Json& found = mapped[a.foundOutput];
      if (!found.is_boolean()) {
        return CallOutcome::failure("invalid_response", d_.name + "." + c.action + ": the answer does not say whether the person was found ('" +
                                                            a.foundOutput + "' is not true or false)",
                                    false);
      }
      const Json count = a.countOutput.empty() ? Json() : mapped[a.countOutput];
      if (count.is_number() && count.get<double>() > 1) {
        mapped["match"] = "ambiguous";
      } else {
        mapped["match"] = found.get<bool>() ? "found" : "not_found";
      }
    }
    o.output = std::move(mapped);
    return o;
  }

 private:
  rest::Definition d_;
  const ConnectorRegistry* registry_;
};

}  // namespace

Status registerRestConnectors(ConnectorRegistry& registry, const std::vector<std::string>& dirs,
                              std::vector<std::string>* loaded) {
  std::vector<std::string> files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return Status::invalidArgument("connector folder " + dir + " is not a directory");
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file() && (it->path().extension() == ".yaml" || it->path().extension() == ".yml")) {
        files.push_back(it->path().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto d = rest::loadDefinition(f);
    if (!d) return d.status();
    const std::string name = d->name;
    const int concurrency = d->maxConcurrency;
    const double rate = d->maxPerSecond;
    if (Status s = registry.add(name, std::make_shared<RestConnector>(std::move(d).value(), &registry), concurrency, rate); !s) {
      return Status::invalidArgument(f + ": " + s.message());
    }
    if (loaded != nullptr) loaded->push_back(name);
  }
  return Status::ok();
}

Status checkRestDefinition(const std::string& file, std::string* name, std::vector<std::string>* actions) {
  auto d = rest::loadDefinition(file);
  if (!d) return d.status();
  *name = d->name;
  actions->clear();
  for (const auto& [actionName, action] : d->actions) actions->push_back(actionName);
  return Status::ok();
}

}  // namespace vigil

// Secrets in connector calls. An expression `secrets.NAME` evaluates to a marker naming the
// secret, so the value never enters the run's state, events, work items or audit trail;
// the worker puts the values in just before the call and takes them back out of whatever
// the connector returns. Text from outside that holds the marker byte is changed where it
// enters a run (start inputs, decisions, cancellations, connector answers): otherwise a
// partner could write a marker into a referral and have vigil fill in a secret and send it on.
#include "engine_impl.h"

namespace vigil {
namespace {

constexpr char kMark = '\x01';
const std::string kPrefix = std::string(1, kMark) + "secret:";

// Replaces every marker in `s`; the first unknown name goes to *missing.
std::string fill(const std::string& s, const SecretLookup& lookup, std::vector<std::string>* used, std::string* missing) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t at = s.find(kPrefix, pos);
    if (at == std::string::npos) break;
    size_t end = s.find(kMark, at + kPrefix.size());
    if (end == std::string::npos) break;
    out.append(s, pos, at - pos);
    std::string name = s.substr(at + kPrefix.size(), end - at - kPrefix.size());
    auto value = lookup ? lookup(name) : std::nullopt;
    if (!value) {
      if (missing->empty()) *missing = name;
    } else {
      out += *value;
      used->push_back(*value);
    }
    pos = end + 1;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

void fillJson(Json& j, const SecretLookup& lookup, std::vector<std::string>* used, std::string* missing) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.find(kMark) != std::string::npos) j = fill(s, lookup, used, missing);
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) fillJson(v, lookup, used, missing);
  }
}

void scrub(std::string& s, const std::vector<std::string>& values) {
  for (const auto& v : values) {
    if (v.size() < 4) continue;  // too short to scrub without mangling ordinary text
    for (size_t at = s.find(v); at != std::string::npos; at = s.find(v, at + 3)) s.replace(at, v.size(), "***");
  }
}

void scrubJson(Json& j, const std::vector<std::string>& values) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    scrub(s, values);
    j = s;
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) scrubJson(v, values);
  }
}

}  // namespace

std::string secretMarker(const std::string& name) { return kPrefix + name + kMark; }

void neutralizeSecretMarkers(Json& j) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.find(kMark) == std::string::npos) return;
    std::string out;
    for (char c : s) {
      if (c == kMark) {
        out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      } else {
        out += c;
      }
    }
    j = std::move(out);
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) neutralizeSecretMarkers(v);
  }
}

void neutralizeSecretMarkers(std::string& s) {
  Json j = std::move(s);
  neutralizeSecretMarkers(j);
  s = j.get<std::string>();
}

CallOutcome callWithSecrets(Connector& connector, ConnectorCall call, const SecretLookup& lookup) {
  std::vector<std::string> used;
  std::string missing;
  fillJson(call.input, lookup, &used, &missing);
  if (!missing.empty()) {
    return CallOutcome::failure("secret_missing", "secret '" + missing + "' is not configured", false);
  }
  CallOutcome o = connector.call(call);
  neutralizeSecretMarkers(o.output);
  neutralizeSecretMarkers(o.message);
  if (!used.empty()) {
    scrubJson(o.output, used);
    scrub(o.message, used);
  }
  return o;
}

}  // namespace vigil

#include "secret_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>

#include <yaml-cpp/yaml.h>

#include "vigil/yaml_check.h"

namespace vigil::daemon {
namespace {

bool validName(const std::string& n) {
  static const std::regex kName("[A-Z][A-Z0-9_]{0,127}");
  return std::regex_match(n, kName);
}

}  // namespace

Result<SecretStore> SecretStore::load(const std::string& path) {
  SecretStore s;
  if (path.empty()) return s;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::ioError("cannot read the secrets file " + path);
  if ((st.st_mode & 077) != 0) {
    return Status::failedPrecondition("the secrets file " + path + " is readable by group or others; chmod 600 it");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ioError("cannot read the secrets file " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The hardened reader first, so a name written twice is refused rather than one of its
  // two values kept without a word. Only a duplicate's message is shown: the others may
  // quote the file's text (a value written as `!abc` reads as a tag), which is a secret.
  if (auto refused = checkYaml(text)) {
    if (refused->kind != YamlRefusal::Kind::kDuplicateKey) refused->message = "not valid YAML";
    return Status::invalidArgument(refused->format(path));
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    // Never e.what(): yaml-cpp may quote the offending text, which could be a secret.
    return Status::invalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                   ": error: not valid YAML");
  }
  if (!root.IsMap() && !root.IsNull()) return Status::invalidArgument(path + ":1:1: error: must be a map of NAME: value");
  // Every problem, each with its position and at most the name: never a value.
  FileProblems problems(path);
  for (const auto& kv : root) {
    const std::string name = kv.first.as<std::string>("");
    const YAML::Mark key = kv.first.Mark();
    if (!validName(name)) {
      problems.add(key.line + 1, key.column + 1, "secret names are upper-case letters, digits and _, got '" + name + "'");
      continue;
    }
    if (!kv.second.IsScalar()) {
      const YAML::Mark value = kv.second.Mark();
      problems.add(value.line + 1, value.column + 1, "secret '" + name + "' must be a single value");
      continue;
    }
    s.values_[name] = kv.second.as<std::string>();
  }
  if (!problems.empty()) return problems.status();
  return s;
}

std::optional<std::string> SecretStore::get(const std::string& name) const {
  if (!validName(name)) return std::nullopt;
  if (const char* v = std::getenv(("VIGIL_SECRET_" + name).c_str()); v != nullptr && *v != '\0') return std::string(v);
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

SecretLookup SecretStore::lookup() const {
  auto copy = std::make_shared<SecretStore>(*this);
  return [copy](const std::string& name) { return copy->get(name); };
}

}  // namespace vigil::daemon

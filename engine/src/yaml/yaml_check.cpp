// The hardened reader (yaml_tree) as a check for files whose readers still walk yaml-cpp's
// own node tree: the same text goes through both, so a document the check accepts is one
// in which yaml-cpp's silent choices (which of two duplicate keys wins) cannot arise.
#include "vigil/yaml_check.h"

#include "yaml_tree.h"

namespace vigil {

std::string YamlRefusal::format(const std::string& file) const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + message;
}

std::optional<YamlRefusal> checkYaml(std::string_view text) {
  yaml::Node root;
  yaml::ReadError err;
  if (yaml::read(text, yaml::Limits{}, &root, &err)) {
    return std::nullopt;
  }
  YamlRefusal r;
  r.line = err.line;
  r.column = err.column;
  r.message = err.message;
  switch (err.kind) {
    case yaml::ReadError::Kind::kEmpty: return std::nullopt;
    case yaml::ReadError::Kind::kDuplicateKey: r.kind = YamlRefusal::Kind::kDuplicateKey; break;
    case yaml::ReadError::Kind::kSyntax: r.kind = YamlRefusal::Kind::kSyntax; break;
    case yaml::ReadError::Kind::kSecondDocument:
      r.message = "more than one YAML document in the file; it must hold exactly one";
      break;
    case yaml::ReadError::Kind::kOther: break;
  }
  return r;
}

}  // namespace vigil

// Internal: reading typed values from the configuration's YAML with errors that name the
// file, line, column and key.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "vigil/status.h"

namespace vigil::daemon {

inline std::string where(const std::string& path, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

template <typename T>
Status read(const std::string& path, const YAML::Node& n, const std::string& key, T* out) {
  try {
    *out = n.as<T>();
    return Status::ok();
  } catch (const YAML::Exception&) {
    return Status::invalidArgument(where(path, n) + ": error: '" + key + "' has the wrong type");
  }
}

inline Status readPositive(const std::string& path, const YAML::Node& n, const std::string& key, long long lo, long long hi,
                    long long* out) {
  Status s = read(path, n, key, out);
  if (!s) return s;
  if (*out < lo || *out > hi) {
    return Status::invalidArgument(where(path, n) + ": error: '" + key + "' must be between " + std::to_string(lo) +
                                   " and " + std::to_string(hi));
  }
  return Status::ok();
}


}  // namespace vigil::daemon

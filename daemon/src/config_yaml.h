// Internal: reading typed values from the configuration's YAML (and the area file's) into
// a FileProblems, each problem naming the file, line, column and key. Every helper records
// what is wrong and returns false, so the walk goes on to the next key.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "vigil/yaml_check.h"

namespace vigil::daemon {

// Records "FILE:LINE:COL: error: MESSAGE" at `n`.
inline void problem(FileProblems* problems, const YAML::Node& n, const std::string& message) {
  const YAML::Mark m = n.Mark();
  problems->add(m.line + 1, m.column + 1, message);
}

// `n` as a T into `out`; otherwise records that `key` has the wrong type and leaves `out`.
template <typename T>
bool read(FileProblems* problems, const YAML::Node& n, const std::string& key, T* out) {
  try {
    *out = n.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    problem(problems, n, "'" + key + "' has the wrong type");
    return false;
  }
}

// An integer from lo to hi into `out`; otherwise records why and leaves `out`.
inline bool readPositive(FileProblems* problems, const YAML::Node& n, const std::string& key, long long lo, long long hi,
                         long long* out) {
  long long v = 0;
  if (!read(problems, n, key, &v)) return false;
  if (v < lo || v > hi) {
    problem(problems, n, "'" + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return false;
  }
  *out = v;
  return true;
}

}  // namespace vigil::daemon

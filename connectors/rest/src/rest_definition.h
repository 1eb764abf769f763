// Internal: a REST connector definition read from YAML, checked with positions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/connector.h"

namespace vigil::rest {

struct Action {
  ActionSpec spec;
  std::string method;
  std::string path;                             // with {param} placeholders
  std::map<std::string, std::string> query;     // name -> template
  Json body;                                    // JSON template, or null
  std::map<std::string, std::string> outputs;   // name -> path into the response
  // How the system says whether it found the person asked about (`match:`): the output
  // that is true when it did, and optionally the one that counts the records it matched
  // (more than one: ambiguous). Empty: the action is not a lookup.
  std::string foundOutput;
  std::string countOutput;
};

struct Definition {
  std::string file;
  std::string name;
  std::string description;
  std::string baseUrl;
  Json auth;  // passed to http.request as `auth`
  long long timeoutMs = 30000;
  int maxConcurrency = 4;
  double maxPerSecond = 0;
  std::map<std::string, Action> actions;
};

// Reads and checks one file; the error holds every problem found, one
// "FILE:LINE:COL: error: ..." line each, naming the key.
Result<Definition> loadDefinition(const std::string& file);

// "{a}" placeholders in `text`, in order.
std::vector<std::string> placeholders(const std::string& text);

}  // namespace vigil::rest

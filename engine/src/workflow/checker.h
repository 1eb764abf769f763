// Internal: the loader's diagnostic collector and typed accessors over the YAML tree.
// Every accessor records a diagnostic on failure and returns nullopt, so parsing goes on
// and all problems are reported in one pass.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../yaml/yaml_tree.h"
#include "vigil/diagnostic.h"
#include "vigil/expr.h"
#include "vigil/workflow.h"

namespace vigil::loader {

using yaml::Node;
using Keys = std::initializer_list<std::string_view>;

// Maps a byte offset inside a scalar's value to the line and column (in characters) in the
// file where that byte was written.
using OffsetMap = std::function<SourcePos(size_t)>;

// Why parseDuration() refused `text` ("is negative; ...", "has its units out of order; ..."),
// to follow the quoted text in a message.
std::string durationProblem(const std::string& text);

// Closest candidate within a small edit distance, or "".
std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

class Checker {
 public:
  Checker(std::string file, std::string_view source, const ExprLimits& exprLimits);

  void error(const Node& at, DiagnosticCategory cat, std::string msg);
  void error(SourcePos at, DiagnosticCategory cat, std::string msg);
  std::vector<Diagnostic>& diagnostics() { return diags_; }

  // Checks `map` is a map whose keys are all in `allowed` and which has every `required`
  // key. `what` names the thing for messages ("step 'pnd'", "retry").
  bool checkMap(const Node& map, const std::vector<std::string_view>& allowed, const std::vector<std::string_view>& required,
                const std::string& what);

  std::optional<std::string> string(const Node& n, const std::string& what);
  std::optional<long long> integer(const Node& n, const std::string& what, long long lo, long long hi);
  std::optional<double> number(const Node& n, const std::string& what);
  std::optional<bool> boolean(const Node& n, const std::string& what);
  std::optional<Millis> duration(const Node& n, const std::string& what);
  // A list of strings; a single string is accepted as a list of one when `allowSingle`.
  std::optional<std::vector<std::string>> stringList(const Node& n, const std::string& what, bool allowSingle);
  bool requireList(const Node& n, const std::string& what);
  bool requireMap(const Node& n, const std::string& what);

  // A condition such as `if:` or `when:`: bare text, or one `${{ }}` around it.
  // `where`, when given, receives a map from offsets inside the expression to the file.
  std::optional<Expression> expression(const Node& n, const std::string& what, OffsetMap* where = nullptr);
  // A string that may embed `${{ }}` parts; offsets in `where` are template offsets.
  std::optional<Template> templ(const Node& n, const std::string& what, OffsetMap* where = nullptr);

  OffsetMap offsetMap(const Node& scalar) const;
  // Calendars and timescales named by literals in the expressions parsed so far.
  std::vector<Workflow::AreaName>& areaNames() { return areaNames_; }
  const std::string& file() const { return file_; }
  const ExprLimits& exprLimits() const { return exprLimits_; }

 private:
  std::string file_;
  yaml::SourceText source_;
  ExprLimits exprLimits_;
  void noteAreaNames(const Expression& e, const OffsetMap& where);
  std::vector<Diagnostic> diags_;
  std::vector<Workflow::AreaName> areaNames_;
};

}  // namespace vigil::loader

#include "vigil/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace vigil {

const char* categoryName(DiagnosticCategory c) {
  switch (c) {
    case DiagnosticCategory::kYaml: return "yaml";
    case DiagnosticCategory::kSchema: return "schema";
    case DiagnosticCategory::kSemantic: return "semantic";
    case DiagnosticCategory::kExpression: return "expression";
  }
  return "unknown";
}

const char* severityName(Severity s) { return s == Severity::kWarning ? "warning" : "error"; }

std::string Diagnostic::format() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + severityName(severity) + ": " + message;
}

void sortDiagnostics(std::vector<Diagnostic>& diags) {
  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.line, a.column, a.message) < std::tie(b.file, b.line, b.column, b.message);
  });
  diags.erase(std::unique(diags.begin(), diags.end(),
                          [](const Diagnostic& a, const Diagnostic& b) {
                            return a.file == b.file && a.line == b.line && a.column == b.column &&
                                   a.message == b.message;
                          }),
              diags.end());
}

}  // namespace vigil

// Diagnostic: one problem found in a workflow file, with where it is and what it is.
//
// The CLI prints them as `FILE:LINE:COL: error: MESSAGE`; the API returns the same fields
// as JSON. Lines and columns are 1-based and point at the offending YAML node or, for an
// expression, at the character inside the expression.
#pragma once

#include <string>
#include <vector>

namespace vigil {

enum class DiagnosticCategory {
  kYaml,        // not well-formed YAML, or refused by a safety limit
  kSchema,      // structure the JSON Schema also rejects: unknown keys, types, required keys
  kSemantic,    // meaning: references, duplicates, ordering, durations, cron, calls
  kExpression,  // an expression that does not parse
};

const char* categoryName(DiagnosticCategory c);

// A warning does not stop a workflow from loading or being published (a role nobody holds
// yet); an error does.
enum class Severity { kError, kWarning };
const char* severityName(Severity s);

struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  DiagnosticCategory category = DiagnosticCategory::kSemantic;
  std::string message;
  Severity severity = Severity::kError;

  // "FILE:LINE:COL: error: MESSAGE" (or "warning:")
  std::string format() const;
};

// Orders by file, line, column, then message: a stable order for output and tests.
void sortDiagnostics(std::vector<Diagnostic>& diags);

}  // namespace vigil

// RFC 4180 CSV, read and written (see file_connector.h for the rules). Pure functions;
// thread-safe.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "vigil/expr.h"

namespace vigil::file {

using CsvRecord = std::vector<std::string>;

struct CsvError {
  int line;  // 1-based line where the offending record or quote starts
  std::string what;
};

struct CsvTable {
  std::vector<CsvRecord> records;
  std::vector<int> lines;  // lines[k]: the line records[k] starts on
};

// The records of `text`; a final line break does not start an empty record.
std::variant<CsvTable, CsvError> parseCsv(const std::string& text);

// One record, fields quoted when needed, ending in CRLF.
std::string csvLine(const CsvRecord& fields);

}  // namespace vigil::file

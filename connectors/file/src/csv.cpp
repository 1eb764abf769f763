#include "csv.h"

namespace vigil::file {

std::variant<CsvTable, CsvError> parseCsv(const std::string& text) {
  CsvTable table;
  size_t i = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  int line = 1;
  while (i < text.size()) {
    CsvRecord record;
    int recordLine = line;
    for (;;) {
      std::string field;
      if (i < text.size() && text[i] == '"') {
        int quoteLine = line;
        ++i;
        for (;;) {
          if (i >= text.size()) return CsvError{quoteLine, "unterminated quoted field"};
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return CsvError{line, "text after a closing quote"};
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') return CsvError{line, "quote inside an unquoted field"};
          field += text[i++];
        }
      }
      record.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    if (i < text.size() && text[i] == '\r') {
      ++i;
      if (i < text.size() && text[i] != '\n') return CsvError{line, "a CR not followed by LF"};
    }
    if (i < text.size() && text[i] == '\n') {
      ++i;
      ++line;
    }
    table.records.push_back(std::move(record));
    table.lines.push_back(recordLine);
  }
  return table;
}

std::string csvLine(const CsvRecord& fields) {
  std::string out;
  for (size_t k = 0; k < fields.size(); ++k) {
    if (k > 0) out += ',';
    const auto& f = fields[k];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += "\r\n";
  return out;
}

}  // namespace vigil::file

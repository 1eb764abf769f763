// SourceText: maps positions in a YAML file between bytes, characters and the text of
// scalars, so diagnostics point at the exact character a user wrote.
#include <algorithm>

#include "yaml_tree.h"

namespace vigil::yaml {
namespace {

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Bytes that a double-quoted escape such as `\x41`, `\u00e9` or `\L` decodes to (as UTF-8),
// and how many source bytes it takes; {0, 0} for an escape yaml-cpp would have refused.
std::pair<size_t, size_t> escapeLengths(std::string_view s, size_t backslash) {
  if (backslash + 1 >= s.size()) {
    return {0, 0};
  }
  char e = s[backslash + 1];
  size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
  if (digits == 0) {
    size_t decoded = (e == 'N' || e == '_') ? 2 : (e == 'L' || e == 'P') ? 3 : 1;
    return {decoded, 2};
  }
  unsigned long cp = 0;
  for (size_t k = 0; k < digits; ++k) {
    size_t i = backslash + 2 + k;
    if (i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return {0, 0};
    }
    char h = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    cp = cp * 16 + static_cast<unsigned long>(h <= '9' ? h - '0' : h - 'a' + 10);
  }
  size_t decoded = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  return {decoded, 2 + digits};
}

}  // namespace

SourceText::SourceText(std::string_view text) : text_(text) {
  lineStarts_.push_back(0);
  bool ascii = true;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      lineAscii_.push_back(ascii);
      lineStarts_.push_back(i + 1);
      ascii = true;
    } else if (static_cast<unsigned char>(text[i]) >= 0x80) {
      ascii = false;
    }
  }
  lineAscii_.push_back(ascii);
}

size_t SourceText::lineEnd(size_t line) const {
  return line < lineStarts_.size() ? lineStarts_[line] - 1 : text_.size();
}

int SourceText::column(int line, int byteColumn) const {
  if (line < 1 || static_cast<size_t>(line) > lineStarts_.size() || byteColumn < 0) {
    return byteColumn + 1;
  }
  const size_t l = static_cast<size_t>(line);
  const size_t start = lineStarts_[l - 1];
  const size_t end = std::min(lineEnd(l), start + static_cast<size_t>(byteColumn));
  if (lineAscii_[l - 1]) {
    return static_cast<int>(end - start) + 1;
  }
  if (cursor_.line != l || cursor_.byte > end) {
    cursor_ = {l, start, 1};
  }
  for (; cursor_.byte < end; ++cursor_.byte) {
    if ((static_cast<unsigned char>(text_[cursor_.byte]) & 0xC0) != 0x80) {
      ++cursor_.column;
    }
  }
  return cursor_.column;
}

size_t SourceText::offset(Position p) const {
  if (p.line < 1 || static_cast<size_t>(p.line) > lineStarts_.size()) {
    return text_.size();
  }
  const size_t l = static_cast<size_t>(p.line);
  const size_t start = lineStarts_[l - 1];
  const size_t end = lineEnd(l);
  if (lineAscii_[l - 1]) {
    return std::min(end, start + static_cast<size_t>(std::max(p.column, 1) - 1));
  }
  if (cursor_.line != l || cursor_.column > p.column) {
    cursor_ = {l, start, 1};
  }
  // The cursor's column counts the characters that start before its byte; stop on the
  // first byte of the character at p.column (or at the end of the line).
  while (cursor_.byte < end) {
    bool lead = (static_cast<unsigned char>(text_[cursor_.byte]) & 0xC0) != 0x80;
    if (lead && cursor_.column == p.column) {
      break;
    }
    if (lead) {
      ++cursor_.column;
    }
    ++cursor_.byte;
  }
  return cursor_.byte;
}

Position SourceText::position(size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  int line = static_cast<int>(it - lineStarts_.begin());
  return {line, column(line, static_cast<int>(offset - lineStarts_[static_cast<size_t>(line - 1)]))};
}

size_t SourceText::contentStart(size_t p) const {
  while (p < text_.size() && (text_[p] == '&' || text_[p] == '!')) {
    while (p < text_.size() && !isBlank(text_[p])) ++p;
    while (p < text_.size() && (isBlank(text_[p]) || text_[p] == '#')) {
      if (text_[p] == '#') {
        p = std::min(text_.size(), text_.find('\n', p));
      } else {
        ++p;
      }
    }
  }
  return p;
}

std::vector<Position> SourceText::scalarPositions(const Node& n) const {
  const std::string& value = n.scalar;
  const Position at{n.line, n.column};
  size_t p = offset(at);
  if (p >= text_.size() || text_[p] == '*') {
    return std::vector<Position>(value.size() + 1, at);
  }
  p = contentStart(p);
  const char style = p < text_.size() ? text_[p] : ' ';
  if (style == '|' || style == '>') {
    // Block scalar: the content starts on the line after the header.
    size_t eol = text_.find('\n', p);
    p = eol == std::string_view::npos ? text_.size() : eol + 1;
  } else if (style == '"' || style == '\'') {
    ++p;
  }
  // Walk the value and the source together. Source characters the value does not have
  // (indentation, folded line breaks, trailing blanks) are skipped; value blanks the source
  // does not have (a line break folded into a space) map to where the folding began.
  std::vector<size_t> offsets;
  offsets.reserve(value.size() + 1);
  size_t fold = p;
  bool inBlankRun = false;
  while (offsets.size() < value.size() && p < text_.size()) {
    char s = text_[p];
    char c = value[offsets.size()];
    if (style == '"' && s == '\\') {
      if (p + 1 < text_.size() && (text_[p + 1] == '\n' || text_[p + 1] == '\r')) {
        p += 2;  // an escaped line break joins the lines; it adds nothing to the value
        continue;
      }
      auto [decoded, length] = escapeLengths(text_, p);
      if (length == 0) break;
      for (size_t k = 0; k < decoded && offsets.size() < value.size(); ++k) offsets.push_back(p);
      p += length;
      inBlankRun = false;
      continue;
    }
    if (style == '\'' && s == '\'' && c == '\'' && p + 1 < text_.size() && text_[p + 1] == '\'') {
      offsets.push_back(p);
      p += 2;
      inBlankRun = false;
      continue;
    }
    if (s == c) {
      offsets.push_back(p++);
      inBlankRun = false;
      continue;
    }
    if (isBlank(s)) {
      if (!inBlankRun) fold = p;
      inBlankRun = true;
      ++p;
      continue;
    }
    if (isBlank(c)) {
      offsets.push_back(fold);
      continue;
    }
    break;  // the source does not match the value: stop rather than guess
  }
  offsets.resize(value.size(), offsets.empty() ? p : offsets.back());
  offsets.push_back(p);
  std::vector<Position> out;
  out.reserve(offsets.size());
  for (size_t o : offsets) out.push_back(position(o));
  return out;
}

}  // namespace vigil::yaml

#include "checker.h"

#include <algorithm>

#include "vigil/duration.h"

namespace vigil::loader {

std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  // Accept at most one edit per three characters (at least one), so short words do not
  // attract unrelated suggestions.
  size_t bestDist = std::max<size_t>(1, word.size() / 3) + 1;
  for (auto c : candidates) {
    // Levenshtein distance, two rows.
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) {
      prev[j] = j;
    }
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        size_t sub = prev[j - 1] + (std::tolower(static_cast<unsigned char>(word[i - 1])) ==
                                            std::tolower(static_cast<unsigned char>(c[j - 1]))
                                        ? 0
                                        : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < bestDist) {
      bestDist = prev[c.size()];
      best = std::string(c);
    }
  }
  return best;
}

Checker::Checker(std::string file, std::string_view source, const ExprLimits& exprLimits)
    : file_(std::move(file)), exprLimits_(exprLimits) {
  size_t pos = 0;
  while (pos <= source.size()) {
    size_t eol = source.find('\n', pos);
    lines_.push_back(source.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos));
    if (eol == std::string_view::npos) {
      break;
    }
    pos = eol + 1;
  }
}

void Checker::error(const Node& at, DiagnosticCategory cat, std::string msg) {
  error(SourcePos{at.line, at.column}, cat, std::move(msg));
}

void Checker::error(SourcePos at, DiagnosticCategory cat, std::string msg) {
  diags_.push_back(Diagnostic{file_, at.line, at.column, cat, std::move(msg)});
}

bool Checker::checkMap(const Node& map, const std::vector<std::string_view>& allowed,
                       const std::vector<std::string_view>& required, const std::string& what) {
  if (!map.isMap()) {
    error(map, DiagnosticCategory::kSchema, what + " must be a map, got " + map.typeName());
    return false;
  }
  bool ok = true;
  for (const auto& [k, v] : map.entries) {
    if (std::find(allowed.begin(), allowed.end(), k.scalar) == allowed.end()) {
      std::string hint = didYouMean(k.scalar, allowed);
      error(k, DiagnosticCategory::kSchema,
            "unknown key '" + k.scalar + "' in " + what + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      ok = false;
    }
  }
  for (auto r : required) {
    if (map.find(r) == nullptr) {
      error(map, DiagnosticCategory::kSchema, "missing required key '" + std::string(r) + "' in " + what);
      ok = false;
    }
  }
  return ok;
}

std::optional<std::string> Checker::string(const Node& n, const std::string& what) {
  if (!n.isScalar() || !scalarValue(n).is_string()) {
    error(n, DiagnosticCategory::kSchema, what + " must be a string, got " + n.typeName());
    return std::nullopt;
  }
  return n.scalar;
}

std::optional<long long> Checker::integer(const Node& n, const std::string& what, long long lo, long long hi) {
  Json v = scalarValue(n);
  if (!n.isScalar() || !v.is_number_integer()) {
    error(n, DiagnosticCategory::kSchema, what + " must be an integer, got " + n.typeName());
    return std::nullopt;
  }
  long long x = v.get<long long>();
  if (x < lo || x > hi) {
    error(n, DiagnosticCategory::kSchema,
          what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(x));
    return std::nullopt;
  }
  return x;
}

std::optional<double> Checker::number(const Node& n, const std::string& what) {
  Json v = scalarValue(n);
  if (!n.isScalar() || !v.is_number()) {
    error(n, DiagnosticCategory::kSchema, what + " must be a number, got " + n.typeName());
    return std::nullopt;
  }
  return v.get<double>();
}

std::optional<bool> Checker::boolean(const Node& n, const std::string& what) {
  Json v = scalarValue(n);
  if (!n.isScalar() || !v.is_boolean()) {
    error(n, DiagnosticCategory::kSchema, what + " must be true or false, got " + n.typeName());
    return std::nullopt;
  }
  return v.get<bool>();
}

std::optional<Millis> Checker::duration(const Node& n, const std::string& what) {
  auto s = string(n, what);
  if (!s) {
    return std::nullopt;
  }
  auto d = parseDuration(*s);
  if (!d) {
    error(n, DiagnosticCategory::kSchema,
          what + " '" + *s + "' is not a duration: use digits and units ms, s, m, h, d, w (for example 30s, 4h, 1h30m), up to 366d");
    return std::nullopt;
  }
  return d;
}

std::optional<std::vector<std::string>> Checker::stringList(const Node& n, const std::string& what, bool allowSingle) {
  std::vector<std::string> out;
  if (allowSingle && n.isScalar()) {
    auto s = string(n, what);
    if (!s) {
      return std::nullopt;
    }
    out.push_back(*s);
    return out;
  }
  if (!n.isSequence()) {
    error(n, DiagnosticCategory::kSchema, what + " must be a list" + (allowSingle ? " or a string" : "") + ", got " + n.typeName());
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : n.items) {
    auto s = string(item, "each entry of " + what);
    if (s) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  return out;
}

bool Checker::requireList(const Node& n, const std::string& what) {
  if (!n.isSequence()) {
    error(n, DiagnosticCategory::kSchema, what + " must be a list, got " + n.typeName());
    return false;
  }
  return true;
}

bool Checker::requireMap(const Node& n, const std::string& what) {
  if (!n.isMap()) {
    error(n, DiagnosticCategory::kSchema, what + " must be a map, got " + n.typeName());
    return false;
  }
  return true;
}

OffsetMap Checker::offsetMap(const Node& scalar) const {
  int line = scalar.line;
  int col = scalar.column;
  char first = ' ';
  if (line >= 1 && static_cast<size_t>(line) <= lines_.size()) {
    std::string_view l = lines_[static_cast<size_t>(line - 1)];
    if (col >= 1 && static_cast<size_t>(col) <= l.size()) {
      first = l[static_cast<size_t>(col - 1)];
    }
  }
  if (first == '|' || first == '>') {
    // Block scalar: content starts on the next line at its indentation; `value` lines map
    // one to one onto source lines for a literal block.
    std::string value = scalar.scalar;
    std::vector<std::string_view> lines = lines_;
    return [value, lines, line](size_t offset) {
      int l = line + 1;
      size_t lineStart = 0;
      for (size_t i = 0; i < offset && i < value.size(); ++i) {
        if (value[i] == '\n') {
          ++l;
          lineStart = i + 1;
        }
      }
      int indent = 1;
      if (l >= 1 && static_cast<size_t>(l) <= lines.size()) {
        std::string_view src = lines[static_cast<size_t>(l - 1)];
        size_t ind = src.find_first_not_of(' ');
        indent = ind == std::string_view::npos ? 1 : static_cast<int>(ind) + 1;
      }
      return SourcePos{l, indent + static_cast<int>(offset - lineStart)};
    };
  }
  int base = col + ((first == '"' || first == '\'') ? 1 : 0);
  return [line, base](size_t offset) { return SourcePos{line, base + static_cast<int>(offset)}; };
}

std::optional<Expression> Checker::expression(const Node& n, const std::string& what, OffsetMap* where) {
  if (!n.isScalar()) {
    error(n, DiagnosticCategory::kSchema, what + " must be an expression string, got " + n.typeName());
    return std::nullopt;
  }
  Json v = scalarValue(n);
  std::string text = v.is_string() ? v.get<std::string>() : n.scalar;
  size_t shift = 0;
  std::string_view body = text;
  // `${{ expr }}` around the whole condition is accepted and unwrapped.
  size_t lead = body.find_first_not_of(" \t");
  if (lead != std::string_view::npos && body.substr(lead, 3) == "${{") {
    size_t close = body.rfind("}}");
    std::string_view tail = close == std::string_view::npos ? std::string_view() : body.substr(close + 2);
    if (close == std::string_view::npos || close < lead + 3 || tail.find_first_not_of(" \t") != std::string_view::npos ||
        body.find("${{", lead + 3) != std::string_view::npos) {
      error(offsetMap(n)(lead), DiagnosticCategory::kExpression,
            what + ": a condition is one expression; write it bare or as a single ${{ ... }}");
      return std::nullopt;
    }
    shift = lead + 3;
    body = body.substr(shift, close - shift);
  }
  auto parsed = Expression::parse(body, exprLimits_);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    error(offsetMap(n)(shift + err->offset), DiagnosticCategory::kExpression, what + ": " + err->message);
    return std::nullopt;
  }
  if (where != nullptr) {
    OffsetMap base = offsetMap(n);
    *where = [base, shift](size_t off) { return base(shift + off); };
  }
  return std::get<Expression>(std::move(parsed));
}

std::optional<Template> Checker::templ(const Node& n, const std::string& what, OffsetMap* where) {
  auto parsed = Template::parse(n.scalar, exprLimits_);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    error(offsetMap(n)(err->offset), DiagnosticCategory::kExpression, what + ": " + err->message);
    return std::nullopt;
  }
  if (where != nullptr) {
    *where = offsetMap(n);
  }
  return std::get<Template>(std::move(parsed));
}

}  // namespace vigil::loader

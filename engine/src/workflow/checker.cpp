#include "checker.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "vigil/duration.h"

namespace vigil::loader {

namespace {

bool sameLetter(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

// Edit distance counting a swap of two neighbouring letters as one edit (optimal string
// alignment): "nmae" is one slip away from "name", not two.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = d[i - 1][j - 1] + (sameLetter(a[i - 1], b[j - 1]) ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, substitute});
      if (i > 1 && j > 1 && sameLetter(a[i - 1], b[j - 2]) && sameLetter(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// An error at the end of an expression ("unexpected end of expression") belongs just past
// the last token, where the missing part goes, not on trailing blanks or a closing quote.
size_t backOverBlanks(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  while (offset > 0 && (text[offset - 1] == ' ' || text[offset - 1] == '\t' || text[offset - 1] == '\n')) {
    --offset;
  }
  return offset;
}

}  // namespace

std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  // Accept at most one edit per three characters (at least one), so short words do not
  // attract unrelated suggestions. The table is quadratic in the lengths, so a very long
  // word (only hostile input has one) gets no suggestion.
  size_t bestDist = std::max<size_t>(1, word.size() / 3) + 1;
  if (word.size() > 256) {
    return best;
  }
  for (auto c : candidates) {
    size_t dist = c.size() > 256 ? bestDist : editDistance(word, c);
    if (dist < bestDist) {
      bestDist = dist;
      best = std::string(c);
    }
  }
  return best;
}

Checker::Checker(std::string file, std::string_view source, const ExprLimits& exprLimits)
    : file_(std::move(file)), source_(source), exprLimits_(exprLimits) {}

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
  if (Json v = scalarValue(n); n.isScalar() && v.is_number()) {
    // A bare number has no unit; say to add one rather than "must be a string".
    bool whole = v.is_number_integer() && v.get<long long>() >= 0;
    error(n, DiagnosticCategory::kSchema,
          what + " must be a duration with a unit, got the number " + n.scalar + " (for example " +
              (whole ? n.scalar + "s" : "30s, 4h or 1h30m") + ")");
    return std::nullopt;
  }
  auto s = string(n, what);
  if (!s) {
    return std::nullopt;
  }
  auto d = parseDuration(*s);
  if (!d) {
    error(n, DiagnosticCategory::kSchema, what + " '" + *s + "' " + durationProblem(*s));
    return std::nullopt;
  }
  return d;
}

// Why parseDuration refused `text`, in words that say how to fix it. The general message
// is kept for anything that is not a duration at all; the others name the actual slip.
std::string durationProblem(const std::string& text) {
  static const std::string kGeneral =
      "is not a duration: use digits and units ms, s, m, h, d, w (for example 30s, 4h, 1h30m), up to 366d";
  if (!text.empty() && text[0] == '-') {
    return "is negative; a duration is zero or more";
  }
  // Split into <digits><unit> groups to tell a wrong order or an overflow from garbage.
  static const std::vector<std::string> kUnits = {"w", "d", "h", "m", "s", "ms"};  // largest first
  std::vector<std::pair<std::string, size_t>> groups;  // text, unit index
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    size_t unit = kUnits.size();
    for (size_t u = 0; u < kUnits.size() && pos > start; ++u) {
      if (text.compare(pos, kUnits[u].size(), kUnits[u]) == 0 &&
          (unit == kUnits.size() || kUnits[u].size() > kUnits[unit].size())) {
        unit = u;
      }
    }
    if (unit == kUnits.size()) {
      return kGeneral;
    }
    pos += kUnits[unit].size();
    groups.emplace_back(text.substr(start, pos - start), unit);
  }
  if (groups.empty()) {
    return kGeneral;
  }
  auto sorted = groups;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].second == sorted[i - 1].second) {
      return "repeats a unit; write each unit once, largest first (for example 1h30m)";
    }
  }
  if (sorted != groups) {
    std::string fixed;
    for (const auto& g : sorted) fixed += g.first;
    return "has its units out of order; write the largest first: " + fixed;
  }
  return "is longer than the limit of 366d";
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
  // Computed once per scalar: every reference in an expression asks for its position.
  auto positions = std::make_shared<const std::vector<yaml::Position>>(source_.scalarPositions(scalar));
  return [positions](size_t offset) {
    const yaml::Position& p = (*positions)[std::min(offset, positions->size() - 1)];
    return SourcePos{p.line, p.column};
  };
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
            what + ": write one expression, as a single ${{ ... }} around the whole text");
      return std::nullopt;
    }
    shift = lead + 3;
    body = body.substr(shift, close - shift);
  }
  auto parsed = Expression::parse(body, exprLimits_);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    size_t at = err->offset >= body.size() ? backOverBlanks(body, body.size()) : err->offset;
    error(offsetMap(n)(shift + at), DiagnosticCategory::kExpression, what + ": " + err->message);
    return std::nullopt;
  }
  OffsetMap base = offsetMap(n);
  noteAreaNames(std::get<Expression>(parsed), [&](size_t off) { return base(shift + off); });
  if (where != nullptr) *where = [base, shift](size_t off) { return base(shift + off); };
  return std::get<Expression>(std::move(parsed));
}

void Checker::noteAreaNames(const Expression& e, const OffsetMap& where) {
  for (const auto& ref : e.areaNames()) {
    areaNames_.push_back(Workflow::AreaName{ref.kind == AreaNameRef::Kind::kTimescale, ref.name, where(ref.offset)});
  }
}

std::optional<Template> Checker::templ(const Node& n, const std::string& what, OffsetMap* where) {
  auto parsed = Template::parse(n.scalar, exprLimits_);
  if (auto* err = std::get_if<ExprError>(&parsed)) {
    // An error at the closing `}}` is at the end of the expression inside it.
    bool atClose = err->offset < n.scalar.size() && n.scalar.compare(err->offset, 2, "}}") == 0;
    size_t at = atClose ? backOverBlanks(n.scalar, err->offset) : err->offset;
    error(offsetMap(n)(at), DiagnosticCategory::kExpression, what + ": " + err->message);
    return std::nullopt;
  }
  OffsetMap base = offsetMap(n);
  for (const auto& part : std::get<Template>(parsed).parts()) {
    if (part.expr) noteAreaNames(*part.expr, [&](size_t off) { return base(part.offset + off); });
  }
  if (where != nullptr) *where = base;
  return std::get<Template>(std::move(parsed));
}

}  // namespace vigil::loader

// Name folding and Jaro-Winkler (see person_match.h).
#include <algorithm>
#include <array>
#include <cstdint>

#include "name_parts.h"
#include "person_match.h"

namespace vigil::match {
namespace {

// U+00C0..U+00FF folded; the block's two symbols (multiplication and division) separate words.
constexpr std::array<const char*, 64> kLatin1 = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // C0-CF
    "d", "n", "o", "o", "o", "o", "o", " ", "o", "u", "u", "u", "u", "y", "th", "ss",  // D0-DF
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // E0-EF
    "d", "n", "o", "o", "o", "o", "o", " ", "o", "u", "u", "u", "u", "y", "th", "y",   // F0-FF
};

struct Fold {
  char32_t first;
  char32_t last;
  const char* ascii;
};

// Latin Extended-A (U+0100..U+017F) as runs of one base letter in its accented forms, which
// covers Polish, Czech, Turkish, Hungarian and Baltic names as UK records receive them; then
// capital sharp s, combining accents (a decomposed "Zoe" + U+0308), no-break space, dashes.
constexpr Fold kFolds[] = {
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"}, {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"}, {0x124, 0x127, "h"}, {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"}, {0x136, 0x138, "k"}, {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"}, {0x168, 0x173, "u"}, {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"}, {0x1E9E, 0x1E9E, "ss"}, {0x0300, 0x036F, ""},
    {0x00A0, 0x00A0, " "}, {0x2010, 0x2015, "-"},
};

bool isApostrophe(char32_t c) { return c == U'\'' || c == U'`' || c == 0x2018 || c == 0x2019 || c == 0x02BC; }

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or U+FFFD for
// an invalid or truncated sequence (advancing one byte, so decoding resynchronises).
char32_t decode(std::string_view s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  size_t len = 0;
  if (b >= 0xC2 && b < 0xE0) {
    len = 2;
  } else if (b >= 0xE0 && b < 0xF0) {
    len = 3;
  } else if (b >= 0xF0 && b < 0xF5) {
    len = 4;
  }
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = b & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    auto cont = static_cast<unsigned char>(s[i + k]);
    if ((cont & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cont & 0x3F);
  }
  i += len;
  return cp;
}

// Appends what one code point folds to; nothing for a dropped one.
void appendFolded(std::string& out, char32_t c, bool keepMarks) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
    out += static_cast<char>(c);
  } else if (c >= 'A' && c <= 'Z') {
    out += static_cast<char>(c - 'A' + 'a');
  } else if (isApostrophe(c)) {
    if (keepMarks) {
      out += '\'';
    }
  } else if (c == '-') {
    out += keepMarks ? '-' : ' ';
  } else if (c < 0x80) {
    out += ' ';
  } else if (c >= 0xC0 && c <= 0xFF) {
    out += kLatin1[c - 0xC0];
  } else {
    for (const auto& f : kFolds) {
      if (c >= f.first && c <= f.last) {
        out += (f.ascii[0] == '-' && !keepMarks) ? " " : f.ascii;
        return;
      }
    }
  }
}

}  // namespace

namespace detail {

std::string foldName(std::string_view name, bool keepMarks) {
  name = name.substr(0, std::min(name.size(), kMaxNameBytes));
  std::string folded;
  folded.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    appendFolded(folded, decode(name, i), keepMarks);
  }
  std::string out;
  out.reserve(folded.size());
  for (char ch : folded) {
    if (ch == ' ' && (out.empty() || out.back() == ' ')) {
      continue;
    }
    out += ch;
  }
  if (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

}  // namespace detail

std::string normalizeName(std::string_view name) { return detail::foldName(name, false); }

double jaroWinkler(std::string_view a, std::string_view b) {
  a = a.substr(0, std::min(a.size(), kMaxNameBytes));
  b = b.substr(0, std::min(b.size(), kMaxNameBytes));
  if (a == b) {
    return 1.0;
  }
  if (a.empty() || b.empty()) {
    return 0.0;
  }
  const size_t longer = std::max(a.size(), b.size());
  const size_t window = longer / 2 > 0 ? longer / 2 - 1 : 0;
  std::array<bool, kMaxNameBytes> aMatched{};
  std::array<bool, kMaxNameBytes> bMatched{};
  size_t matches = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    size_t lo = i > window ? i - window : 0;
    size_t hi = std::min(b.size(), i + window + 1);
    for (size_t j = lo; j < hi; ++j) {
      if (!bMatched[j] && a[i] == b[j]) {
        aMatched[i] = bMatched[j] = true;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) {
    return 0.0;
  }
  size_t halfTranspositions = 0;
  for (size_t i = 0, j = 0; i < a.size(); ++i) {
    if (!aMatched[i]) {
      continue;
    }
    while (!bMatched[j]) {
      ++j;
    }
    if (a[i] != b[j]) {
      ++halfTranspositions;
    }
    ++j;
  }
  const double m = static_cast<double>(matches);
  const double jaro = (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) +
                       (m - static_cast<double>(halfTranspositions / 2)) / m) / 3.0;
  size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) {
    ++prefix;
  }
  return jaro + static_cast<double>(prefix) * 0.1 * (1.0 - jaro);
}

}  // namespace vigil::match

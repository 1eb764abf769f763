#include "mime.h"

#include <array>
#include <cstdio>

namespace vigil::email {
namespace {

constexpr std::size_t kFoldAt = 78;       // RFC 5322 "SHOULD" line length
constexpr std::size_t kMaxLine = 998;     // RFC 5322 "MUST" line length
constexpr std::size_t kQpLine = 76;       // RFC 2045 quoted-printable line length
// Raw bytes per encoded word: 36 bytes are 48 base64 characters, so "Subject: " plus one
// "=?UTF-8?B?...?=" word stays under 78 columns and no word needs padding but the last.
constexpr std::size_t kWordBytes = 36;

bool isWsp(char c) { return c == ' ' || c == '\t'; }

bool isAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// Length of the UTF-8 sequence starting at s[i]; s must be valid UTF-8.
std::size_t utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

std::string encodedWords(std::string_view value) {
  std::string out = "Subject:";
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t end = i;
    while (end < value.size()) {
      std::size_t n = utf8Length(static_cast<unsigned char>(value[end]));
      if (end + n - i > kWordBytes) break;
      end += n;
    }
    out += (i == 0 ? " " : "\r\n ");
    out += "=?UTF-8?B?" + base64(value.substr(i, end - i)) + "?=";
    i = end;
  }
  if (value.empty()) out += " ";
  return out + "\r\n";
}

// Folds before a run of whitespace that is followed by text, so unfolding (removing the
// CRLF) restores the value exactly and no continuation line is whitespace only.
std::string foldedAscii(std::string_view value) {
  std::string out = "Subject: ";
  std::size_t lineLen = out.size();
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t next = start + 1;
    while (next < value.size() && !(isWsp(value[next]) && next + 1 < value.size() && !isWsp(value[next + 1]) &&
                                    !isWsp(value[next - 1]))) {
      ++next;
    }
    std::string_view segment = value.substr(start, next - start);
    if (start > 0 && lineLen + segment.size() > kFoldAt) {
      out += "\r\n";
      lineLen = 0;
    }
    out += segment;
    lineLen += segment.size();
    if (lineLen > kMaxLine) return "";
    start = next;
  }
  return out + "\r\n";
}

}  // namespace

bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    char32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool hasHeaderControl(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return true;
  }
  return false;
}

bool isAddress(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || s.size() > 254) return false;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (local[i] == '.') {
      if (local[i - 1] == '.') return false;
    } else if (!isAtext(local[i])) {
      return false;
    }
  }
  if (domain.empty()) return false;
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    std::string_view label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!isLabelChar(c)) return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string domainOf(std::string_view address) { return toLower(address.substr(address.rfind('@') + 1)); }

std::string rfc5322Date(std::time_t t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string subjectHeader(std::string_view value) {
  bool ascii = true;
  for (char c : value) {
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
  }
  // "=?" in plain text would be decoded by readers as the start of an encoded word.
  if (ascii && value.find("=?") == std::string_view::npos) {
    std::string folded = foldedAscii(value);
    if (!folded.empty()) return folded;
  }
  return encodedWords(value);
}

std::string quotedPrintable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find_first_of("\r\n", pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    std::size_t col = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      // Whitespace at the end of a line is encoded: transports may strip it.
      bool literal = (c >= 33 && c <= 126 && c != '=') || (isWsp(line[i]) && !last);
      std::size_t width = literal ? 1 : 3;
      // Leave room for the '=' of a soft break, unless this is the line's last character.
      if (col + width > (last ? kQpLine : kQpLine - 1)) {
        out += "=\r\n";
        col = 0;
      }
      if (literal) {
        out += static_cast<char>(c);
      } else {
        out += '=';
        out += kHex[c >> 4];
        out += kHex[c & 0x0F];
      }
      col += width;
    }
    out += "\r\n";
    if (eol == std::string_view::npos) break;
    pos = eol + ((text[eol] == '\r' && eol + 1 < text.size() && text[eol + 1] == '\n') ? 2 : 1);
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace vigil::email

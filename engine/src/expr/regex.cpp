// matches() through RE2: what it refuses and why, in the expression language's words.
#include "regex.h"

#include <re2/re2.h>

namespace vigil::expr_detail {
namespace {

size_t characters(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

bool isDigitText(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// RE2 reports a repetition it refuses ("{9000}", "{2,1}", or the outer one of nested
// repetitions whose counts multiply past 1000) with one code; only the first is a mistake
// in the pattern rather than a limit.
bool backwardsRepetition(std::string_view arg) {
  if (arg.size() < 2 || arg.front() != '{' || arg.back() != '}') {
    return false;
  }
  std::string_view inner = arg.substr(1, arg.size() - 2);
  size_t comma = inner.find(',');
  if (comma == std::string_view::npos) {
    return false;
  }
  std::string_view lo = inner.substr(0, comma);
  std::string_view hi = inner.substr(comma + 1);
  if (!isDigitText(lo) || !isDigitText(hi) || lo.size() > 9 || hi.size() > 9) {
    return false;
  }
  return std::stoul(std::string(hi)) < std::stoul(std::string(lo));
}

std::string describe(const re2::RE2& re, const std::string& pattern) {
  const std::string invalid = "matches() pattern is not a valid regular expression: ";
  const std::string& arg = re.error_arg();
  switch (re.error_code()) {
    case re2::RE2::ErrorBadEscape:
      if (arg.size() == 2 && arg[1] >= '1' && arg[1] <= '9') {
        return "matches() pattern uses a back-reference, which is not supported";
      }
      return invalid + "unknown escape " + arg;
    case re2::RE2::ErrorBadPerlOp:
      if (arg == "(?=" || arg == "(?!") {
        return "matches() pattern uses lookahead, which is not supported";
      }
      if (arg == "(?<" && (pattern.find("(?<=") != std::string::npos || pattern.find("(?<!") != std::string::npos)) {
        return "matches() pattern uses lookbehind, which is not supported";
      }
      if (arg == "(?<") {
        return invalid + "name a group as (?P<name>...)";
      }
      return invalid + "unknown group " + arg;
    case re2::RE2::ErrorRepeatSize:
      if (backwardsRepetition(arg)) {
        return invalid + "repetition " + arg + " has its maximum below its minimum";
      }
      return "matches() pattern too complex: " + arg + " repeats more than 1000 times (nested repetitions multiply)";
    case re2::RE2::ErrorPatternTooLarge:
      return "matches() pattern too complex: it compiles to more than " + std::to_string(kMaxRegexProgram) +
             " instructions";
    case re2::RE2::ErrorBadCharClass: return invalid + "unknown character class " + arg;
    case re2::RE2::ErrorBadCharRange: return invalid + "bad character range " + arg;
    case re2::RE2::ErrorMissingBracket: return invalid + "missing ']'";
    case re2::RE2::ErrorMissingParen: return invalid + "missing ')'";
    case re2::RE2::ErrorUnexpectedParen: return invalid + "unexpected ')'";
    case re2::RE2::ErrorTrailingBackslash: return invalid + "it ends with a lone backslash";
    case re2::RE2::ErrorRepeatArgument: return invalid + "nothing to repeat before " + arg;
    case re2::RE2::ErrorRepeatOp: return invalid + "bad repetition " + arg;
    case re2::RE2::ErrorBadUTF8: return invalid + "it is not UTF-8 text";
    case re2::RE2::ErrorBadNamedCapture: return invalid + "bad group name " + arg;
    default: return "matches() pattern is not a valid regular expression";
  }
}

}  // namespace

Regex compileRegex(const std::string& pattern, std::string* error) {
  if (characters(pattern) > kMaxRegexPattern) {
    *error = "matches() pattern longer than " + std::to_string(kMaxRegexPattern) + " characters";
    return nullptr;
  }
  // UTF-8 (so '.' is one character), Perl syntax without Perl's non-regular parts, '^' and
  // '$' at the ends of the text only (RE2's default unless the pattern says (?m)). The
  // memory budget covers the compiled program and RE2's cache of automaton states; the
  // program is bounded separately below, so the budget only catches what slips past it.
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  options.set_max_mem(1 << 20);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) {
    *error = describe(*re, pattern);
    return nullptr;
  }
  if (re->ProgramSize() > kMaxRegexProgram) {
    *error = "matches() pattern too complex: it compiles to more than " + std::to_string(kMaxRegexProgram) +
             " instructions";
    return nullptr;
  }
  return re;
}

bool regexSearch(const re2::RE2& re, std::string_view text) {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
}

}  // namespace vigil::expr_detail

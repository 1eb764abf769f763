// Internal: the regular expressions of matches(), compiled with RE2.
//
// RE2 matches in time linear in the text for a given pattern (no backtracking), on UTF-8
// characters rather than bytes, and has no back-references or lookaround. A compiled
// Regex is immutable and may be used by many threads at once (RE2 guards its own caches).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace vigil::expr_detail {

// Bounds, so that one call stays cheap: the pattern's and the text's length in characters,
// and the size of the compiled program. A search is linear in the text, but its constant
// grows with the program when RE2's cache of automaton states fills and it simulates the
// automaton instead: 10,000 instructions over 4,096 characters is about 0.1 s at worst.
// A Unicode class such as \pL is about 1,200 instructions; '.' and [^a] about 12.
constexpr size_t kMaxRegexPattern = 256;
constexpr size_t kMaxRegexSubject = 4096;
constexpr int kMaxRegexProgram = 10000;

using Regex = std::shared_ptr<const re2::RE2>;

// Compiles `pattern`. On failure returns nullptr and sets *error to a sentence that starts
// with "matches() pattern" and says what is wrong: not valid (and why), a back-reference
// or lookaround (not supported), too long or too complex.
Regex compileRegex(const std::string& pattern, std::string* error);

// Whether `re` matches anywhere in `text`. The caller has checked the text's length.
bool regexSearch(const re2::RE2& re, std::string_view text);

}  // namespace vigil::expr_detail

// UTF-8 as the store and the readers of outside text take it: well-formed (no overlong
// forms, surrogates or values past U+10FFFF) and without NUL bytes, which PostgreSQL's text
// cannot hold and C APIs cut strings at.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// The offset of the first byte that is not such UTF-8, or npos.
size_t findInvalidUtf8(std::string_view s);
// `s` with every byte that is not such UTF-8 replaced by U+FFFD.
std::string withReplacementChars(std::string_view s);

}  // namespace vigil

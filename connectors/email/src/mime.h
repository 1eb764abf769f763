// Mime: the text encodings a message needs (RFC 5322 dates and folding, RFC 2045
// quoted-printable, RFC 2047 encoded words) and the checks that keep header values safe.
// Pure functions on strings; thread-safe.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace vigil::email {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool isValidUtf8(std::string_view s);

// True when `s` holds a control character a header value must not carry: CR, LF, NUL and
// the other C0 controls except TAB, and DEL. CR/LF would end the header and start another.
bool hasHeaderControl(std::string_view s);

// A bare addr-spec we are willing to put in an envelope and a header: dot-atom local part,
// '@', a domain of letters, digits and hyphens in dot-separated labels. ASCII only; no
// display names, quoted local parts, comments or address literals.
bool isAddress(std::string_view s);

// The part after '@', lower-cased. `address` must satisfy isAddress().
std::string domainOf(std::string_view address);

std::string toLower(std::string_view s);

// "Thu, 26 Nov 2026 13:48:51 +0000", independent of the locale.
std::string rfc5322Date(std::time_t t);

// The complete "Subject: ..." header line(s) ending in CRLF. ASCII text is folded at spaces
// to about 78 columns; text with non-ASCII bytes, or that could be misread as an encoded
// word, or that cannot be folded under the 998-octet limit, becomes RFC 2047 "B" encoded
// words split on character boundaries. `value` must be valid UTF-8 without controls.
std::string subjectHeader(std::string_view value);

// `text` as quoted-printable with CRLF line breaks (any of CRLF, LF or lone CR in the input
// count as a break), lines at most 76 characters, ending with CRLF.
std::string quotedPrintable(std::string_view text);

std::string base64(std::string_view bytes);

}  // namespace vigil::email

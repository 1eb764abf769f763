// Small text helpers shared by the http connector's files: encodings and the checks that
// keep untrusted text out of headers and messages. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace vigil::http {

std::string toLower(std::string_view s);

// RFC 3986 percent-encoding of everything but unreserved characters. With `form`, a space
// becomes '+' (application/x-www-form-urlencoded).
std::string percentEncode(std::string_view s, bool form);

bool isValidUtf8(std::string_view s);
// Invalid UTF-8 bytes replaced by '?', so the text can go into JSON output.
std::string utf8OrReplaced(std::string_view s);

std::string base64(std::string_view bytes);
std::string hex(std::string_view bytes);

// An HTTP header name (RFC 9110 token).
bool isHeaderName(std::string_view s);
// True when `s` holds CR, LF, NUL or another control other than tab: text that could end a
// header line and start another.
bool hasHeaderControl(std::string_view s);
// Text of our own choosing for a header value (purpose, idempotency key): bytes outside
// printable ASCII, and '%', percent-encoded, so no input can break the header line.
std::string headerSafe(std::string_view s);

// A name chosen by the workflow author (parameter, header), shortened and with controls
// replaced, before it is echoed in a message.
std::string printable(std::string_view name);

}  // namespace vigil::http

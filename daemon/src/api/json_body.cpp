#include "api/api.h"

namespace vigil::daemon {

std::optional<HttpResponse> parseJsonBody(const std::string& body, nlohmann::json* out) {
  // Depth is checked before parsing so a 10,000-deep document costs one pass, not a tree.
  constexpr int kMaxDepth = 64;
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        return HttpResponse::error(400, "json_too_deep", "JSON body nested deeper than 64 levels");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  try {
    *out = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is a position, never the content, so no personal data reaches the message.
    return HttpResponse::error(400, "invalid_json", "request body is not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
  return std::nullopt;
}

}  // namespace vigil::daemon

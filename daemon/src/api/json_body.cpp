#include <cmath>
#include <set>
#include <vector>

#include "api/api.h"

namespace vigil::daemon {
namespace {

// Where the parser is, as a JSON pointer ("/inputs/referral/id"), for error messages that
// say where without quoting any value.
struct Frame {
  bool object = false;
  std::set<std::string> keys;
  std::string key;     // the member being read (objects)
  size_t index = 0;    // the next element (arrays)
};

struct Refused {
  std::string code;
  std::string message;
};

std::string pointer(const std::vector<Frame>& stack) {
  nlohmann::json::json_pointer p;  // escapes '~' and '/' as RFC 6901 says
  for (const auto& f : stack) p.push_back(f.object ? f.key : std::to_string(f.index));
  return p.to_string().empty() ? "/" : p.to_string();
}

}  // namespace

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
  // A key given twice would otherwise be read as its last value (another reader may take
  // the first), and a number beyond a double's range as infinity: both are refused.
  std::vector<Frame> stack;
  auto afterValue = [&stack] {
    if (!stack.empty() && !stack.back().object) ++stack.back().index;
  };
  auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        stack.push_back(Frame{event == E::object_start, {}, {}, 0});
        break;
      case E::key: {
        Frame& f = stack.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) {
          throw Refused{"duplicate_key", "the key at " + pointer(stack) + " is given twice"};
        }
        break;
      }
      case E::object_end:
      case E::array_end:
        stack.pop_back();
        afterValue();
        break;
      case E::value:
        if (parsed.is_number_float() && !std::isfinite(parsed.get<double>())) {
          throw Refused{"number_out_of_range", "the number at " + pointer(stack) + " is out of range"};
        }
        afterValue();
        break;
    }
    return true;
  };
  try {
    *out = nlohmann::json::parse(body, check);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is a position, never the content, so no personal data reaches the message.
    return HttpResponse::error(400, "invalid_json", "request body is not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::out_of_range&) {
    // The lexer's overflow (1e999): the stack still says where it was reading.
    return HttpResponse::error(400, "number_out_of_range", "request body: the number at " + pointer(stack) + " is out of range");
  } catch (const Refused& r) {
    return HttpResponse::error(400, r.code, "request body: " + r.message);
  }
  return std::nullopt;
}

}  // namespace vigil::daemon

#include "text_template.h"

namespace vigil::email {
namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<TextTemplate> TextTemplate::parse(std::string_view text) {
  TextTemplate t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({false, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({false, std::string(text.substr(pos, open - pos))});
    std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return Status::invalidArgument("has a '{{' without a closing '}}'");
    std::string_view name = trimSpaces(text.substr(open + 2, close - open - 2));
    bool ok = !name.empty();
    for (char c : name) ok = ok && isNameChar(c);
    if (!ok) return Status::invalidArgument("has a placeholder whose name is empty or not letters, digits, '_', '-', '.'");
    t.pieces_.push_back({true, std::string(name)});
    pos = close + 2;
  }
  return t;
}

Result<std::string> TextTemplate::render(const Json& vars) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    auto it = vars.is_object() ? vars.find(p.text) : vars.end();
    if (!vars.is_object() || it == vars.end()) return Status::notFound("needs var '" + p.text + "'");
    if (it->is_string()) {
      out += it->get_ref<const std::string&>();
    } else if (it->is_number() || it->is_boolean()) {
      out += it->dump();
    } else {
      return Status::invalidArgument("var '" + p.text + "' must be a string, number or boolean");
    }
  }
  return out;
}

}  // namespace vigil::email

// TextTemplate: a subject or body with "{{name}}" placeholders, parsed once at registration
// and filled at each send. Immutable after parse(); thread-safe to share.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vigil/expr.h"
#include "vigil/status.h"

namespace vigil::email {

class TextTemplate {
 public:
  // Splits `text` into literal runs and placeholders. A name is letters, digits, '_', '-'
  // and '.', with optional spaces inside the braces ("{{ name }}"). Fails (invalidArgument,
  // message without the text) on "{{" with no "}}" or an empty or malformed name.
  static Result<TextTemplate> parse(std::string_view text);

  // The text with every placeholder replaced by vars[name] (a string as is, a number or
  // boolean as JSON prints it). Fails with notFound("needs var 'NAME'") when a var is
  // missing and invalidArgument("var 'NAME' must be ...") for other JSON types.
  Result<std::string> render(const Json& vars) const;

 private:
  struct Piece {
    bool placeholder = false;
    std::string text;  // literal text, or the placeholder's name
  };
  std::vector<Piece> pieces_;
};

}  // namespace vigil::email

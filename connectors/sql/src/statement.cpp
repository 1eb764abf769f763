#include "statement.h"

#include <algorithm>
#include <cctype>

namespace vigil::sql {
namespace {

bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool identChar(char c) { return identStart(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }

class Scanner {
 public:
  Scanner(const std::string& name, const std::string& sql, SqlConnection::Kind kind)
      : sql_(sql), kind_(kind), out_{name, {}, {}} {}

  Result<Statement> run() {
    while (i_ < sql_.size()) {
      if (auto s = step(); !s) return s;
    }
    return std::move(out_);
  }

 private:
  bool postgres() const { return kind_ == SqlConnection::Kind::kPostgres; }
  char at(size_t k) const { return k < sql_.size() ? sql_[k] : '\0'; }

  Status fail(const std::string& what) const {
    return Status::invalidArgument("query '" + out_.name + "': " + what + " at offset " + std::to_string(i_));
  }

  // Copies through the closing `quote`; a doubled quote is an escaped one, and in a
  // PostgreSQL E'' string so is a backslashed one.
  Status quoted(char quote, bool backslashEscapes) {
    size_t start = i_;
    out_.text += sql_[i_++];
    while (i_ < sql_.size()) {
      char c = sql_[i_];
      out_.text += c;
      ++i_;
      if (backslashEscapes && c == '\\' && i_ < sql_.size()) {
        out_.text += sql_[i_++];
      } else if (c == quote) {
        if (at(i_) != quote) return Status::ok();
        out_.text += sql_[i_++];
      }
    }
    i_ = start;
    return fail("unterminated quote");
  }

  // Copies through `end`, searched for from `skip` bytes on (past the opening).
  Status copyUntil(const std::string& end, bool required, size_t skip = 2) {
    size_t found = sql_.find(end, i_ + skip);
    if (found == std::string::npos) {
      if (required) return fail("unterminated comment or dollar quote");
      found = sql_.size();
    } else {
      found += end.size();
    }
    out_.text.append(sql_, i_, found - i_);
    i_ = found;
    return Status::ok();
  }

  Status placeholder() {
    size_t end = i_ + 1;
    while (end < sql_.size() && identChar(sql_[end])) ++end;
    std::string param = sql_.substr(i_ + 1, end - i_ - 1);
    auto known = std::find(out_.params.begin(), out_.params.end(), param);
    if (known == out_.params.end()) {
      out_.params.push_back(param);
      known = out_.params.end() - 1;
    }
    out_.text += postgres() ? "$" + std::to_string(known - out_.params.begin() + 1) : sql_.substr(i_, end - i_);
    i_ = end;
    return Status::ok();
  }

  Status step() {
    char c = sql_[i_];
    char next = at(i_ + 1);
    bool wordBefore = i_ > 0 && identChar(sql_[i_ - 1]);
    if (c == '\'') return quoted('\'', postgres() && i_ > 0 && (sql_[i_ - 1] == 'E' || sql_[i_ - 1] == 'e') &&
                                           !(i_ > 1 && identChar(sql_[i_ - 2])));
    if (c == '"') return quoted('"', false);
    if (c == '`' && !postgres()) return quoted('`', false);
    if (c == '[' && !postgres()) return copyUntil("]", true, 1);  // SQLite's [identifier]
    if (c == '-' && next == '-') return copyUntil("\n", false);
    if (c == '/' && next == '*') return copyUntil("*/", true);
    if (c == ':') {
      if (next == ':' && postgres()) {
        out_.text += "::";
        i_ += 2;
        return Status::ok();
      }
      if (!identStart(next)) return fail("malformed placeholder (':' must start ':name')");
      return placeholder();
    }
    if (c == '$' && postgres() && !wordBefore) {
      if (std::isdigit(static_cast<unsigned char>(next)) != 0) return fail("positional placeholder (use ':name')");
      size_t end = i_ + 1;
      while (end < sql_.size() && identChar(sql_[end])) ++end;
      if (at(end) == '$') return copyUntil(sql_.substr(i_, end - i_ + 1), true, end - i_ + 1);  // $tag$ ... $tag$
    }
    if (!postgres() && (c == '?' || ((c == '@' || c == '$') && identStart(next)))) {
      return fail("SQLite placeholder other than ':name'");
    }
    if (c == ';') {
      size_t rest = i_ + 1;
      while (rest < sql_.size() && std::isspace(static_cast<unsigned char>(sql_[rest])) != 0) ++rest;
      if (rest < sql_.size()) return fail("a second statement (one statement per query)");
    }
    out_.text += c;
    ++i_;
    return Status::ok();
  }

  const std::string& sql_;
  SqlConnection::Kind kind_;
  Statement out_;
  size_t i_ = 0;
};

}  // namespace

Result<Statement> parseStatement(const std::string& name, const std::string& sql, SqlConnection::Kind kind) {
  if (sql.find('\0') != std::string::npos) return Status::invalidArgument("query '" + name + "' holds a NUL byte");
  return Scanner(name, sql, kind).run();
}

}  // namespace vigil::sql

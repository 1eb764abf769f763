// Recursive-descent parser for the expression language. Depth is bounded by
// ExprLimits::maxDepth, and the height of the parsed tree (which the evaluator recurses
// over) by a multiple of it, so hostile input cannot exhaust the stack.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "program.h"
#include "vigil/duration.h"

namespace vigil::expr_detail {
namespace {

enum class Tok { kEnd, kNumber, kString, kIdent, kPunct };

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t offset = 0;
  std::string text;  // punctuation, identifier, or decoded string
  Json number;
};

struct ParseFailure {
  ExprError error;
};

// The bound on the height of the parsed tree, as a multiple of ExprLimits::maxDepth
// (16 x 48 = 768 by default): far above what a readable expression needs, far below what
// the evaluator's recursion can take on a thread stack.
constexpr int kHeightPerDepth = 16;

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentChar(char c) { return isIdentStart(c) || (c >= '0' && c <= '9'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  Parser(std::string_view text, const ExprLimits& limits, Program& prog)
      : src_(text), limits_(limits), prog_(prog) {}

  uint32_t parseAll() {
    advance();
    if (tok_.kind == Tok::kEnd) {
      fail(0, "empty expression");
    }
    uint32_t root = parseConditional();
    if (tok_.kind != Tok::kEnd) {
      fail(tok_.offset, "unexpected '" + tok_.text + "' after the end of the expression");
    }
    return root;
  }

 private:
  [[noreturn]] void fail(size_t offset, std::string msg) { throw ParseFailure{{offset, std::move(msg)}}; }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > p_.limits_.maxDepth) {
        p_.fail(p_.tok_.offset, "expression nested deeper than " + std::to_string(p_.limits_.maxDepth) + " levels");
      }
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  // ---- lexer ----
  void advance() {
    while (pos_ < src_.size() && (src_[pos_] == ' ' || src_[pos_] == '\t' || src_[pos_] == '\n' || src_[pos_] == '\r')) {
      ++pos_;
    }
    tok_ = Token{};
    tok_.offset = static_cast<uint32_t>(pos_);
    if (pos_ >= src_.size()) {
      tok_.kind = Tok::kEnd;
      tok_.text = "end of expression";
      return;
    }
    char c = src_[pos_];
    if (isDigit(c)) {
      lexNumber();
    } else if (c == '\'' || c == '"') {
      lexString(c);
    } else if (isIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < src_.size() && isIdentChar(src_[pos_])) {
        ++pos_;
      }
      tok_.kind = Tok::kIdent;
      tok_.text = std::string(src_.substr(start, pos_ - start));
    } else {
      static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
      for (auto two : kTwo) {
        if (src_.substr(pos_, 2) == two) {
          tok_.kind = Tok::kPunct;
          tok_.text = std::string(two);
          pos_ += 2;
          return;
        }
      }
      static constexpr std::string_view kOne = ".[](),?:+-*/%!<>";
      if (kOne.find(c) == std::string_view::npos) {
        if (c == '=') {
          fail(pos_, "unexpected '=': use '==' to compare");
        }
        if (c == '&' || c == '|') {
          fail(pos_, std::string("unexpected '") + c + "': use '" + c + c + "'");
        }
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
          fail(pos_, "unexpected character (byte 0x" + hex(static_cast<unsigned char>(c)) + ")");
        }
        fail(pos_, std::string("unexpected character '") + c + "'");
      }
      tok_.kind = Tok::kPunct;
      tok_.text = std::string(1, c);
      ++pos_;
    }
  }

  static std::string hex(unsigned char c) {
    static const char* d = "0123456789abcdef";
    return {d[c >> 4], d[c & 15]};
  }

  void lexNumber() {
    size_t start = pos_;
    while (pos_ < src_.size() && isDigit(src_[pos_])) {
      ++pos_;
    }
    bool isFloat = false;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && isDigit(src_[pos_ + 1])) {
      isFloat = true;
      ++pos_;
      while (pos_ < src_.size() && isDigit(src_[pos_])) {
        ++pos_;
      }
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t save = pos_++;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) {
        ++pos_;
      }
      if (pos_ < src_.size() && isDigit(src_[pos_])) {
        isFloat = true;
        while (pos_ < src_.size() && isDigit(src_[pos_])) {
          ++pos_;
        }
      } else {
        pos_ = save;
      }
    }
    if (pos_ < src_.size() && isIdentStart(src_[pos_])) {
      fail(pos_, "unexpected '" + std::string(1, src_[pos_]) + "' after a number");
    }
    std::string_view digits = src_.substr(start, pos_ - start);
    tok_.kind = Tok::kNumber;
    tok_.text = std::string(digits);
    if (!isFloat) {
      long long v = 0;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (r.ec == std::errc()) {
        tok_.number = v;
        return;
      }
    }
    double d = std::strtod(tok_.text.c_str(), nullptr);
    if (!std::isfinite(d)) {
      fail(start, "number out of range");
    }
    tok_.number = d;
  }

  void lexString(char quote) {
    size_t start = pos_++;
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) {
        fail(start, "unterminated string");
      }
      char c = src_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (pos_ + 1 >= src_.size()) {
          fail(start, "unterminated string");
        }
        char e = src_[pos_ + 1];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case '\\': out += '\\'; break;
          case '\'': out += '\''; break;
          case '"': out += '"'; break;
          default: fail(pos_, std::string("unknown escape '\\") + e + "' in string");
        }
        pos_ += 2;
        continue;
      }
      out += c;
      ++pos_;
    }
    tok_.kind = Tok::kString;
    tok_.text = std::move(out);
  }

  bool isPunct(std::string_view p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  bool isKeyword(std::string_view k) const { return tok_.kind == Tok::kIdent && tok_.text == k; }

  void expect(std::string_view p, std::string_view what) {
    if (!isPunct(p)) {
      fail(tok_.offset, "expected '" + std::string(p) + "' " + std::string(what) + ", found " + describe());
    }
    advance();
  }

  std::string describe() const {
    switch (tok_.kind) {
      case Tok::kEnd: return "end of expression";
      case Tok::kString: return "a string";
      case Tok::kNumber: return "'" + tok_.text + "'";
      default: return "'" + tok_.text + "'";
    }
  }

  // Every node records its height (operators, fields and indexes on the longest path down
  // to a leaf; a leaf is 0). Evaluation recurses once per level, and a flat chain such as
  // `a + b + c + ...` or `a.b.c...` nests one level per link without passing a DepthGuard,
  // so the height is bounded here too: otherwise a long chain (possible when maxLength is
  // raised) overflows the stack at evaluation time.
  uint32_t add(Node n) {
    int h = 0;
    for (uint32_t a : n.args) {
      h = std::max(h, heights_[a] + 1);
    }
    if (h > maxHeight()) {
      fail(n.offset, "expression nests more than " + std::to_string(maxHeight()) +
                         " operators, fields or indexes inside one another");
    }
    prog_.nodes.push_back(std::move(n));
    heights_.push_back(h);
    return static_cast<uint32_t>(prog_.nodes.size() - 1);
  }

  int maxHeight() const { return kHeightPerDepth * std::max(limits_.maxDepth, 1); }

  uint32_t makeNode(NodeKind kind, uint32_t offset, std::vector<uint32_t> args, Op op = Op::kNone) {
    Node n;
    n.kind = kind;
    n.offset = offset;
    n.args = std::move(args);
    n.op = op;
    return add(std::move(n));
  }

  // ---- grammar ----
  uint32_t parseConditional() {
    DepthGuard g(*this);
    uint32_t cond = parseOr();
    if (isPunct("?")) {
      uint32_t off = tok_.offset;
      advance();
      uint32_t a = parseConditional();
      expect(":", "in conditional 'a ? b : c'");
      uint32_t b = parseConditional();
      return makeNode(NodeKind::kCond, off, {cond, a, b});
    }
    return cond;
  }

  uint32_t parseOr() {
    uint32_t lhs = parseAnd();
    while (isPunct("||")) {
      uint32_t off = tok_.offset;
      advance();
      lhs = makeNode(NodeKind::kOr, off, {lhs, parseAnd()});
    }
    return lhs;
  }

  uint32_t parseAnd() {
    uint32_t lhs = parseEquality();
    while (isPunct("&&")) {
      uint32_t off = tok_.offset;
      advance();
      lhs = makeNode(NodeKind::kAnd, off, {lhs, parseEquality()});
    }
    return lhs;
  }

  uint32_t parseEquality() {
    uint32_t lhs = parseComparison();
    while (isPunct("==") || isPunct("!=")) {
      Op op = tok_.text == "==" ? Op::kEq : Op::kNe;
      uint32_t off = tok_.offset;
      advance();
      lhs = makeNode(NodeKind::kBinary, off, {lhs, parseComparison()}, op);
    }
    return lhs;
  }

  uint32_t parseComparison() {
    uint32_t lhs = parseAdditive();
    while (isPunct("<") || isPunct("<=") || isPunct(">") || isPunct(">=") || isKeyword("in")) {
      Op op = tok_.text == "<" ? Op::kLt : tok_.text == "<=" ? Op::kLe : tok_.text == ">" ? Op::kGt
            : tok_.text == ">=" ? Op::kGe : Op::kIn;
      uint32_t off = tok_.offset;
      advance();
      lhs = makeNode(NodeKind::kBinary, off, {lhs, parseAdditive()}, op);
    }
    return lhs;
  }

  uint32_t parseAdditive() {
    uint32_t lhs = parseMultiplicative();
    while (isPunct("+") || isPunct("-")) {
      Op op = tok_.text == "+" ? Op::kAdd : Op::kSub;
      uint32_t off = tok_.offset;
      advance();
      lhs = makeNode(NodeKind::kBinary, off, {lhs, parseMultiplicative()}, op);
    }
    return lhs;
  }

  uint32_t parseMultiplicative() {
    uint32_t lhs = parseUnary();
    while (isPunct("*") || isPunct("/") || isPunct("%")) {
      Op op = tok_.text == "*" ? Op::kMul : tok_.text == "/" ? Op::kDiv : Op::kMod;
      uint32_t off = tok_.offset;
      advance();
      lhs = makeNode(NodeKind::kBinary, off, {lhs, parseUnary()}, op);
    }
    return lhs;
  }

  uint32_t parseUnary() {
    if (isPunct("!") || isPunct("-")) {
      DepthGuard g(*this);
      Op op = tok_.text == "!" ? Op::kNot : Op::kNeg;
      uint32_t off = tok_.offset;
      advance();
      return makeNode(NodeKind::kUnary, off, {parseUnary()}, op);
    }
    return parsePostfix();
  }

  uint32_t parsePostfix() {
    uint32_t e = parsePrimary();
    while (true) {
      if (isPunct(".")) {
        advance();
        if (tok_.kind != Tok::kIdent) {
          fail(tok_.offset, "expected a field name after '.', found " + describe());
        }
        Node n;
        n.kind = NodeKind::kMember;
        n.offset = tok_.offset;
        n.args = {e};
        n.name = tok_.text;
        advance();
        e = add(std::move(n));
      } else if (isPunct("[")) {
        DepthGuard g(*this);
        uint32_t off = tok_.offset;
        advance();
        uint32_t idx = parseConditional();
        expect("]", "to close the index");
        e = makeNode(NodeKind::kIndex, off, {e, idx});
      } else if (isPunct("(")) {
        fail(tok_.offset, "only named functions can be called");
      } else {
        return e;
      }
    }
  }

  uint32_t parsePrimary() {
    uint32_t off = tok_.offset;
    switch (tok_.kind) {
      case Tok::kEnd:
        fail(off, "unexpected end of expression");
      case Tok::kNumber: {
        Node n;
        n.kind = NodeKind::kLiteral;
        n.offset = off;
        n.value = tok_.number;
        advance();
        return add(std::move(n));
      }
      case Tok::kString: {
        Node n;
        n.kind = NodeKind::kLiteral;
        n.offset = off;
        n.value = tok_.text;
        advance();
        return add(std::move(n));
      }
      case Tok::kIdent:
        return parseIdentifier();
      case Tok::kPunct:
        break;
    }
    if (isPunct("(")) {
      DepthGuard g(*this);
      advance();
      uint32_t e = parseConditional();
      expect(")", "to close '('");
      return e;
    }
    if (isPunct("[")) {
      DepthGuard g(*this);
      advance();
      std::vector<uint32_t> items;
      if (!isPunct("]")) {
        while (true) {
          items.push_back(parseConditional());
          if (isPunct(",")) {
            advance();
            continue;
          }
          break;
        }
      }
      expect("]", "to close the list");
      return makeNode(NodeKind::kArray, off, std::move(items));
    }
    fail(off, "unexpected " + describe());
  }

  uint32_t parseIdentifier() {
    uint32_t off = tok_.offset;
    std::string name = tok_.text;
    advance();
    if (name == "true" || name == "false" || name == "null") {
      Node n;
      n.kind = NodeKind::kLiteral;
      n.offset = off;
      n.value = name == "null" ? Json(nullptr) : Json(name == "true");
      return add(std::move(n));
    }
    if (name == "in") {
      fail(off, "unexpected 'in'");
    }
    if (isPunct("(")) {
      return parseCall(name, off);
    }
    Node n;
    n.kind = NodeKind::kName;
    n.offset = off;
    n.name = std::move(name);
    return add(std::move(n));
  }

  uint32_t parseCall(const std::string& name, uint32_t off) {
    DepthGuard g(*this);
    const FnInfo* info = findFunction(name);
    if (info == nullptr) {
      fail(off, "unknown function '" + name + "'");
    }
    advance();  // (
    std::vector<uint32_t> args;
    if (!isPunct(")")) {
      while (true) {
        args.push_back(parseConditional());
        if (isPunct(",")) {
          advance();
          continue;
        }
        break;
      }
    }
    expect(")", "to close the call of " + name + "()");
    int n = static_cast<int>(args.size());
    if (n < info->minArgs || (info->maxArgs >= 0 && n > info->maxArgs)) {
      std::string want = info->minArgs == info->maxArgs ? std::to_string(info->minArgs)
                       : info->maxArgs < 0 ? "at least " + std::to_string(info->minArgs)
                       : std::to_string(info->minArgs) + " to " + std::to_string(info->maxArgs);
      int last = info->maxArgs < 0 ? info->minArgs : info->maxArgs;  // "at least 1 argument"
      fail(off, name + "() takes " + want + " argument" + (last == 1 ? "" : "s") + ", got " + std::to_string(n));
    }
    Node node;
    node.kind = NodeKind::kCall;
    node.fn = info->fn;
    node.offset = off;
    node.name = name;
    node.args = std::move(args);
    checkLiteralArguments(node);
    if (info->fn == Fn::kMatches) {
      const Node& pat = prog_.nodes[node.args[1]];
      if (pat.kind == NodeKind::kLiteral) {
        if (!pat.value.is_string()) {
          fail(pat.offset, "matches() pattern must be a string");
        }
        std::string err;
        node.regex = compileRegex(pat.value.get<std::string>(), &err);
        if (!node.regex) {
          fail(pat.offset, err);
        }
      }
    }
    return add(std::move(node));
  }

  // A literal duration that cannot be one, such as '72 hours', is an error where it is
  // written rather than when a run reaches it; a literal calendar or timescale name is
  // kept for publication to check against the area.
  void checkLiteralArguments(const Node& call) {
    auto literal = [&](size_t i) -> const Node* {
      if (i >= call.args.size()) return nullptr;
      const Node& a = prog_.nodes[call.args[i]];
      return a.kind == NodeKind::kLiteral && a.value.is_string() ? &a : nullptr;
    };
    auto duration = [&](size_t i) {
      const Node* a = literal(i);
      if (a == nullptr) return;
      std::string_view text = a->value.get_ref<const std::string&>();
      if (!text.empty() && text[0] == '-') text.remove_prefix(1);
      if (!parseDuration(text)) {
        fail(a->offset, "'" + a->value.get<std::string>() + "' is not a duration such as 30s, 4h, 1h30m or 2d");
      }
    };
    auto name = [&](size_t i, AreaNameRef::Kind kind) {
      if (const Node* a = literal(i)) prog_.areaNames.push_back(AreaNameRef{kind, a->value.get<std::string>(), a->offset});
    };
    using K = AreaNameRef::Kind;
    switch (call.fn) {
      case Fn::kDuration: duration(0); break;
      case Fn::kTimeAdd: duration(1); break;
      case Fn::kWorkingTimeAdd: duration(1); name(2, K::kCalendar); break;
      case Fn::kWorkingDaysAfter: name(2, K::kCalendar); break;
      case Fn::kIsWorkingDay:
      case Fn::kNextOpening: name(1, K::kCalendar); break;
      case Fn::kSlaDeadline:
      case Fn::kTimescale: name(0, K::kTimescale); break;
      default: break;
    }
  }

  std::string_view src_;
  const ExprLimits& limits_;
  Program& prog_;
  size_t pos_ = 0;
  int depth_ = 0;
  Token tok_;
  std::vector<int> heights_;  // parallel to prog_.nodes
};

// Collects the statically known paths (root name then .field / ["literal"] segments).
void collectPaths(Program& prog) {
  std::vector<bool> consumed(prog.nodes.size(), false);
  // Nodes are appended after their children, so the outermost member of a chain has the
  // highest index: walk from the end and mark the inner links as consumed.
  for (size_t i = prog.nodes.size(); i-- > 0;) {
    if (consumed[i]) {
      continue;
    }
    const Node* n = &prog.nodes[i];
    if (n->kind != NodeKind::kMember && n->kind != NodeKind::kIndex && n->kind != NodeKind::kName) {
      continue;
    }
    std::vector<std::pair<std::string, size_t>> rev;
    size_t cur = i;
    bool ok = true;
    while (true) {
      const Node& c = prog.nodes[cur];
      if (c.kind == NodeKind::kName) {
        rev.emplace_back(c.name, c.offset);
        break;
      }
      if (c.kind == NodeKind::kMember) {
        rev.emplace_back(c.name, c.offset);
      } else if (c.kind == NodeKind::kIndex) {
        const Node& idx = prog.nodes[c.args[1]];
        if (idx.kind == NodeKind::kLiteral && idx.value.is_string()) {
          rev.emplace_back(idx.value.get<std::string>(), idx.offset);
        } else {
          rev.clear();  // computed index: keep only the part before it
        }
      } else {
        ok = false;
        break;
      }
      cur = c.args[0];
      consumed[cur] = true;
    }
    if (!ok || rev.empty()) {
      continue;
    }
    PathRef ref;
    for (auto it = rev.rbegin(); it != rev.rend(); ++it) {
      ref.segments.push_back(it->first);
      ref.segmentOffsets.push_back(it->second);
    }
    ref.offset = ref.segmentOffsets.front();
    prog.paths.push_back(std::move(ref));
  }
  std::sort(prog.paths.begin(), prog.paths.end(),
            [](const PathRef& a, const PathRef& b) { return a.offset < b.offset; });
}

}  // namespace

std::variant<std::shared_ptr<Program>, ExprError> parseProgram(std::string_view text,
                                                               const ExprLimits& limits) {
  auto prog = std::make_shared<Program>();
  prog->text = std::string(text);
  prog->limits = limits;
  if (text.size() > limits.maxLength) {
    return ExprError{0, "expression longer than " + std::to_string(limits.maxLength) + " characters"};
  }
  try {
    Parser p(prog->text, limits, *prog);
    prog->root = p.parseAll();
  } catch (const ParseFailure& f) {
    return f.error;
  }
  collectPaths(*prog);
  return prog;
}

}  // namespace vigil::expr_detail

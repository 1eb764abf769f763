#include "yaml_tree.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <optional>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>
#include <yaml-cpp/eventhandler.h>

#include "vigil/utf8.h"

namespace vigil::yaml {
namespace {

struct LimitExceeded {
  ReadError error;
};

void lineCol(std::string_view s, size_t offset, int* line, int* col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') {
      ++*line;
      *col = 1;
    } else if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      ++*col;
    }
  }
}


// True when the quoted scalar whose opening quote is at `open` has its closing quote.
bool quoteClosed(std::string_view s, size_t open) {
  char quote = s[open];
  for (size_t i = open + 1; i < s.size(); ++i) {
    if (quote == '"' && s[i] == '\\') {
      ++i;
    } else if (s[i] == quote) {
      if (quote == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;
        continue;
      }
      return true;
    }
  }
  return false;
}

// True when the text holds nothing but comments, blank lines, directives and document
// markers: a file whose only "content" is `---` is as empty as a blank one.
bool onlyMarkersAndComments(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find('\n', pos);
    std::string_view l = s.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? s.size() : eol + 1;
    if (l.substr(0, 3) == "---" || l.substr(0, 3) == "...") {
      l.remove_prefix(3);
    } else if (!l.empty() && l[0] == '%') {
      continue;
    }
    size_t first = l.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && l[first] != '#') {
      return false;
    }
  }
  return true;
}

// A second document starts with a `---` line after content, or follows a `...` line.
// Document markers are only markers at column 0, and YAML forbids them inside scalars,
// so a line scan finds them without running the parser (whose multi-document path in
// yaml-cpp 0.7 can loop on malformed input).
bool findSecondDocument(std::string_view s, int* lineOut) {
  bool content = false;
  bool ended = false;
  int line = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t eol = s.find('\n', pos);
    std::string_view l = s.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    ++line;
    pos = eol == std::string_view::npos ? s.size() : eol + 1;
    if (!l.empty() && l.back() == '\r') {
      l.remove_suffix(1);
    }
    auto isMarker = [&](std::string_view m) {
      return l.substr(0, 3) == m && (l.size() == 3 || l[3] == ' ' || l[3] == '\t');
    };
    size_t first = l.find_first_not_of(" \t");
    bool blank = first == std::string_view::npos || l[first] == '#';
    if (isMarker("---")) {
      if (content || ended) {
        *lineOut = line;
        return true;
      }
      std::string_view rest = l.substr(3);
      size_t r = rest.find_first_not_of(" \t");
      content = r != std::string_view::npos && rest[r] != '#';
      continue;
    }
    if (isMarker("...")) {
      ended = true;
      continue;
    }
    if (blank || (!content && l[0] == '%')) {
      continue;
    }
    if (ended) {
      *lineOut = line;
      return true;
    }
    content = true;
  }
  return false;
}

class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(const Limits& limits, const SourceText& source) : limits_(limits), source_(source) {}

  Node takeRoot() { return std::move(root_); }
  bool hasRoot() const { return haveRoot_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n = make(mark, Node::Kind::kNull);
    finish(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || !anchorDone_[anchor]) {
      fail(mark, "alias refers to an anchor that is not complete");
    }
    Node copy = copyCounted(anchors_[anchor], mark);
    Position at = position(mark);
    copy.line = at.line;
    copy.column = at.column;
    finish(std::move(copy), 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    checkTag(mark, tag);
    checkQuoteClosed(mark);
    Node n = make(mark, Node::Kind::kScalar);
    n.scalar = value;
    n.plain = tag == "?";
    finish(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    checkTag(mark, tag);
    push(make(mark, Node::Kind::kSequence), anchor);
  }
  void OnSequenceEnd() override { pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    checkTag(mark, tag);
    push(make(mark, Node::Kind::kMap), anchor);
  }
  void OnMapEnd() override {
    if (stack_.back().pendingKey) {
      // Cannot happen with a well-formed event stream; keep the tree consistent anyway.
      stack_.back().pendingKey.reset();
    }
    pop();
  }

 private:
  struct Frame {
    Node node;
    YAML::anchor_t anchor = 0;
    std::optional<Node> pendingKey;
  };

  // yaml-cpp counts columns in bytes; diagnostics count characters.
  Position position(const YAML::Mark& mark) const {
    return {mark.line + 1, source_.column(mark.line + 1, mark.column)};
  }

  [[noreturn]] void fail(const YAML::Mark& mark, std::string message) const {
    Position at = position(mark);
    throw LimitExceeded{{at.line, at.column, std::move(message)}};
  }

  Node make(const YAML::Mark& mark, Node::Kind kind) {
    count(mark);
    Node n;
    n.kind = kind;
    Position at = position(mark);
    n.line = at.line;
    n.column = at.column;
    return n;
  }

  void count(const YAML::Mark& mark) {
    if (++nodes_ > limits_.maxNodes) {
      fail(mark, "document has more than " + std::to_string(limits_.maxNodes) + " nodes (after expanding aliases)");
    }
  }

  void checkTag(const YAML::Mark& mark, const std::string& tag) const {
    if (!tag.empty() && tag != "?" && tag != "!") {
      fail(mark, "YAML tags such as '" + tag + "' are not supported");
    }
  }

  // yaml-cpp 0.7 accepts a quoted scalar that runs to the end of the file when the file
  // ends with a line break, silently swallowing the rest of the document into the string.
  void checkQuoteClosed(const YAML::Mark& mark) const {
    std::string_view text = source_.text();
    size_t p = source_.contentStart(mark.pos < 0 ? text.size() : static_cast<size_t>(mark.pos));
    if (p < text.size() && (text[p] == '"' || text[p] == '\'') && !quoteClosed(text, p)) {
      Position at = source_.position(p);
      throw LimitExceeded{{at.line, at.column, std::string("quoted string is not closed: no matching ") + text[p] +
                                                   " before the end of the file"}};
    }
  }

  Node copyCounted(const Node& src, const YAML::Mark& mark) {
    Node out;
    out.kind = src.kind;
    out.line = src.line;
    out.column = src.column;
    out.scalar = src.scalar;
    out.plain = src.plain;
    out.items.reserve(src.items.size());
    for (const auto& i : src.items) {
      count(mark);
      out.items.push_back(copyCounted(i, mark));
    }
    for (const auto& [k, v] : src.entries) {
      count(mark);
      count(mark);
      out.entries.push_back(Node::Entry{k, copyCounted(v, mark)});
    }
    return out;
  }

  void push(Node n, YAML::anchor_t anchor) {
    if (static_cast<int>(stack_.size()) >= limits_.maxDepth) {
      throw LimitExceeded{{n.line, n.column, "nesting deeper than " + std::to_string(limits_.maxDepth) + " levels"}};
    }
    stack_.push_back(Frame{std::move(n), anchor, std::nullopt});
  }

  void pop() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    finish(std::move(f.node), f.anchor);
  }

  void remember(const Node& n, YAML::anchor_t anchor) {
    if (anchor == 0) {
      return;
    }
    if (anchor >= anchors_.size()) {
      anchors_.resize(anchor + 1);
      anchorDone_.resize(anchor + 1, false);
    }
    anchors_[anchor] = n;
    anchorDone_[anchor] = true;
  }

  void finish(Node n, YAML::anchor_t anchor) {
    remember(n, anchor);
    if (stack_.empty()) {
      root_ = std::move(n);
      haveRoot_ = true;
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind == Node::Kind::kSequence) {
      top.node.items.push_back(std::move(n));
      return;
    }
    if (!top.pendingKey) {
      if (n.kind != Node::Kind::kScalar) {
        throw LimitExceeded{{n.line, n.column, "map keys must be plain text"}};
      }
      for (const auto& [k, v] : top.node.entries) {
        if (k.scalar == n.scalar) {
          throw LimitExceeded{{n.line, n.column,
                               "duplicate key '" + n.scalar + "' (first at line " + std::to_string(k.line) + ")",
                               ReadError::Kind::kDuplicateKey}};
        }
      }
      top.pendingKey = std::move(n);
      return;
    }
    top.node.entries.push_back(Node::Entry{std::move(*top.pendingKey), std::move(n)});
    top.pendingKey.reset();
  }

  const Limits& limits_;
  const SourceText& source_;
  std::vector<Frame> stack_;
  std::vector<Node> anchors_;
  std::vector<bool> anchorDone_;
  Node root_;
  bool haveRoot_ = false;
  size_t nodes_ = 0;
};

}  // namespace

const Node* Node::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.scalar == key) {
      return &v;
    }
  }
  return nullptr;
}

const char* Node::typeName() const {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kSequence: return "list";
    case Kind::kMap: return "map";
    case Kind::kScalar: break;
  }
  nlohmann::json v = scalarValue(*this);
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_null()) return "null";
  return "string";
}

bool read(std::string_view text, const Limits& limits, Node* out, ReadError* error) {
  if (text.size() > limits.maxBytes) {
    *error = {1, 1, "document is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                        std::to_string(limits.maxBytes)};
    return false;
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  size_t bad = findInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    lineCol(text, bad, &error->line, &error->column);
    error->message = text[bad] == '\0' ? "NUL byte in document" : "document is not valid UTF-8";
    return false;
  }
  int second = 0;
  if (findSecondDocument(text, &second)) {
    *error = {second, 1, "more than one YAML document in the file; a workflow file holds exactly one",
              ReadError::Kind::kSecondDocument};
    return false;
  }
  SourceText source(text);
  std::string copy(text);
  std::istringstream in(copy);
  TreeBuilder builder(limits, source);
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(builder);
  } catch (const LimitExceeded& e) {
    *error = e.error;
    return false;
  } catch (const YAML::Exception& e) {
    // yaml-cpp's wording for the commonest mistake assumes the reader knows YAML's rules.
    std::string message = e.msg == "illegal tab when looking for indentation"
                              ? "tab character in indentation: YAML indents with spaces only"
                              : e.msg;
    *error = {e.mark.line + 1, source.column(e.mark.line + 1, e.mark.column), message, ReadError::Kind::kSyntax};
    if (e.mark.line < 0) {
      error->line = 1;
      error->column = 1;
    }
    return false;
  } catch (const std::bad_alloc&) {
    *error = {1, 1, "document too large to read"};
    return false;
  }
  Node root = builder.takeRoot();
  if (!builder.hasRoot() || (root.isNull() && onlyMarkersAndComments(text))) {
    *error = {1, 1, "document is empty", ReadError::Kind::kEmpty};
    return false;
  }
  *out = std::move(root);
  return true;
}

nlohmann::json scalarValue(const Node& n) {
  if (n.kind == Node::Kind::kNull) {
    return nullptr;
  }
  if (n.kind != Node::Kind::kScalar || !n.plain) {
    return n.scalar;
  }
  const std::string& s = n.scalar;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (s.size() <= 40 && std::regex_match(s, kInt)) {
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == 0) {
      return v;
    }
    return s;  // out of range integers stay text rather than silently losing digits
  }
  if (s.size() <= 40 && std::regex_match(s, kFloat)) {
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) {
      return d;
    }
  }
  return s;
}

nlohmann::json toJson(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull:
    case Node::Kind::kScalar:
      return scalarValue(n);
    case Node::Kind::kSequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& i : n.items) {
        a.push_back(toJson(i));
      }
      return a;
    }
    case Node::Kind::kMap: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, v] : n.entries) {
        o[k.scalar] = toJson(v);
      }
      return o;
    }
  }
  return nullptr;
}

}  // namespace vigil::yaml

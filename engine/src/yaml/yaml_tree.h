// Internal: a YAML document read into a plain tree with source positions, under limits.
//
// yaml-cpp's own node tree shares aliased nodes (so a billion-laughs document looks small
// until walked) and silently keeps one of two duplicate keys. This reader drives yaml-cpp's
// event parser itself, copies aliases under a node budget, bounds depth and size, and
// rejects duplicate keys, tags, multiple documents and non-UTF-8 input.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigil::yaml {

struct Limits {
  size_t maxBytes = 1 << 20;  // the document, before parsing
  int maxDepth = 64;          // nesting of maps and sequences
  size_t maxNodes = 100000;   // nodes after alias expansion
};

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string scalar;
  bool plain = false;  // an unquoted scalar: subject to type resolution
  std::vector<Node> items;
  struct Entry;
  std::vector<Entry> entries;  // map, in document order

  bool isMap() const { return kind == Kind::kMap; }
  bool isSequence() const { return kind == Kind::kSequence; }
  bool isScalar() const { return kind == Kind::kScalar; }
  bool isNull() const { return kind == Kind::kNull; }
  const Node* find(std::string_view key) const;
  // "map", "list", "string", "number", "boolean", "null": for error messages.
  const char* typeName() const;
};

// A map entry: the key node (always a scalar) and its value.
struct Node::Entry {
  Node key;
  Node value;
};

struct ReadError {
  // What kind of refusal, for readers that treat some differently: an empty document may
  // be acceptable, and yaml-cpp's syntax messages may quote the document's text.
  enum class Kind { kOther, kEmpty, kSyntax, kDuplicateKey, kSecondDocument };
  int line = 1;
  int column = 1;
  std::string message;
  Kind kind = Kind::kOther;
};

// A 1-based line and column; columns count characters (code points), not bytes, so they
// match what an editor shows for lines with names such as "Zoë".
struct Position {
  int line = 1;
  int column = 1;
};

// A document's text with a line index, for turning the byte positions the parser reports
// into Positions, and for finding where each character of a scalar's value was written.
class SourceText {
 public:
  explicit SourceText(std::string_view text);

  std::string_view text() const { return text_; }
  // The character column of byte column `byteColumn` (0-based) on `line` (1-based).
  int column(int line, int byteColumn) const;
  // The byte offset of a Position (clamped to the text).
  size_t offset(Position p) const;
  Position position(size_t offset) const;
  // Where each byte of `n.scalar` was written, plus one entry for the end of the value.
  // Follows quotes, escapes, folded line breaks and block indentation, so an error at
  // offset k of the value can point at the exact character in the file. An alias maps
  // every offset to the alias itself, since its text is written elsewhere.
  std::vector<Position> scalarPositions(const Node& n) const;
  // The offset of a node's content given the offset of its mark: yaml-cpp's mark points at
  // an anchor (`&name`) or tag (`!`) in front of the content, when there is one.
  size_t contentStart(size_t offset) const;

 private:
  size_t lineEnd(size_t line) const;

  std::string_view text_;
  std::vector<size_t> lineStarts_;
  std::vector<bool> lineAscii_;  // byte and character columns agree on these lines
  // Where the last conversion on a line with multi-byte characters ended: lookups mostly
  // move forward, so counting from here keeps a long line linear instead of quadratic.
  mutable struct {
    size_t line = 0;
    size_t byte = 0;
    int column = 1;
  } cursor_;
};

// Reads one YAML document. On failure returns false and fills `error`.
bool read(std::string_view text, const Limits& limits, Node* out, ReadError* error);

// YAML 1.2 core-schema resolution of a scalar: null, bool, int, float or string.
nlohmann::json scalarValue(const Node& n);
// The whole tree as JSON (maps become objects).
nlohmann::json toJson(const Node& n);

}  // namespace vigil::yaml

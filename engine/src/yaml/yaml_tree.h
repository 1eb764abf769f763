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
  std::vector<std::pair<Node, Node>> entries;  // map: key node (a scalar), value node

  bool isMap() const { return kind == Kind::kMap; }
  bool isSequence() const { return kind == Kind::kSequence; }
  bool isScalar() const { return kind == Kind::kScalar; }
  bool isNull() const { return kind == Kind::kNull; }
  const Node* find(std::string_view key) const;
  // "map", "list", "string", "number", "boolean", "null": for error messages.
  const char* typeName() const;
};

struct ReadError {
  int line = 1;
  int column = 1;
  std::string message;
};

// Reads one YAML document. On failure returns false and fills `error`.
bool read(std::string_view text, const Limits& limits, Node* out, ReadError* error);

// YAML 1.2 core-schema resolution of a scalar: null, bool, int, float or string.
nlohmann::json scalarValue(const Node& n);
// The whole tree as JSON (maps become objects).
nlohmann::json toJson(const Node& n);

}  // namespace vigil::yaml

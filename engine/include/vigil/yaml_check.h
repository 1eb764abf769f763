// Checking a YAML file under the rules workflow files are read with, for the other YAML
// files vigil reads (the configuration, area files, the secrets file, REST connector
// definitions), before their own readers walk it; and FileProblems, with which those
// readers then report every problem they find in one walk, as workflow files do.
//
// yaml-cpp's loader keeps one of two duplicate keys without a word, so `limits:` written
// twice in a configuration silently loses the first. The check reads the text with the
// engine's hardened reader: at most 1 MiB, UTF-8 without NUL bytes, one document, nesting
// at most 64 deep, at most 100,000 nodes after expanding aliases, no tags, map keys that
// are text, and no key twice in one map. Pure: no I/O, no state; safe from any thread.
#pragma once

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/status.h"

namespace vigil {

struct YamlRefusal {
  enum class Kind {
    kDuplicateKey,  // a key written twice in one map; the message names it and its first line
    kSyntax,        // not well-formed YAML; the message is yaml-cpp's and may quote the text
    kOther,         // a limit, the encoding, a tag, a second document, a non-text key
  };
  Kind kind = Kind::kOther;
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters (code points), as an editor counts them
  std::string message;

  // "FILE:LINE:COL: error: MESSAGE", the form every vigil file error takes.
  std::string format(const std::string& file) const;
};

// Checks the whole text of one YAML file. Returns nullopt when it may be read (an empty
// document, or one holding only comments, included); otherwise the first problem, with
// its position. A file holding secrets prints only the position of anything but a
// duplicate key, since other messages may quote its text (a tag, yaml-cpp's wording).
std::optional<YamlRefusal> checkYaml(std::string_view text);

// Every problem a reader finds in one file, so that a walk records a problem and goes on
// to the next key or entry instead of stopping, and the admin sees all of them at once.
// Each problem is one line, "FILE:LINE:COL: error: MESSAGE"; status() returns them in file
// order (by line, then column; problems at one place in the order they were added). The
// messages are the reader's: a reader of secrets adds positions and key names, never
// values. Not thread-safe; one walk owns one.
class FileProblems {
 public:
  explicit FileProblems(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  bool empty() const { return problems_.empty(); }

  // A problem at a 1-based line and column of the file. Control characters in the
  // message (a key quoted from the file may hold a line break) are written as escapes, so
  // each problem stays one line.
  void add(int line, int column, std::string_view message) {
    problems_.push_back({line, column,
                         file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + oneLine(message)});
  }
  // A problem already written as "FILE:LINE:COL: error: MESSAGE" (a YamlRefusal's
  // format(), or a line another reader of the same file returned). A line that does not
  // begin with this file's name and a position is kept as it is, ordered first.
  void add(std::string formatted) {
    int line = 0;
    int column = 0;
    std::string_view rest(formatted);
    if (rest.substr(0, file_.size()) == file_ && rest.substr(file_.size(), 1) == ":") {
      rest.remove_prefix(file_.size() + 1);
      if (!number(&rest, &line) || !number(&rest, &column)) line = column = 0;
    }
    problems_.push_back({line, column, std::move(formatted)});
  }
  // Each line of a non-ok Status's message, as add(std::string) does: a part of the file
  // read by another function (which returns its own FileProblems' status()). An ok
  // Status adds nothing.
  void add(const Status& s) {
    if (s.isOk()) return;
    const std::string& m = s.message();
    for (size_t at = 0; at < m.size();) {
      size_t end = m.find('\n', at);
      if (end == std::string::npos) end = m.size();
      if (end > at) add(m.substr(at, end - at));
      at = end + 1;
    }
  }

  static std::string oneLine(std::string_view text) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (u < 0x20 || u == 0x7f) {
        out += "\\x";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else {
        out += c;
      }
    }
    return out;
  }

  // ok when nothing was added; otherwise invalidArgument holding one problem a line.
  Status status() const {
    if (problems_.empty()) return Status::ok();
    std::vector<const Problem*> order;
    for (const auto& p : problems_) order.push_back(&p);
    std::stable_sort(order.begin(), order.end(), [](const Problem* a, const Problem* b) {
      return a->line != b->line ? a->line < b->line : a->column < b->column;
    });
    std::string message;
    for (const Problem* p : order) message += (message.empty() ? "" : "\n") + p->text;
    return Status::invalidArgument(std::move(message));
  }

 private:
  struct Problem {
    int line;
    int column;
    std::string text;
  };
  // Reads "DIGITS:" from the front of `rest`.
  static bool number(std::string_view* rest, int* out) {
    const auto [end, ec] = std::from_chars(rest->data(), rest->data() + rest->size(), *out);
    if (ec != std::errc() || end == rest->data() + rest->size() || *end != ':') return false;
    rest->remove_prefix(static_cast<size_t>(end - rest->data()) + 1);
    return true;
  }

  std::string file_;
  std::vector<Problem> problems_;
};

}  // namespace vigil

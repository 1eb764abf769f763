// Checking a YAML file under the rules workflow files are read with, for the other YAML
// files vigil reads (the configuration, area files, the secrets file, REST connector
// definitions), before their own readers walk it.
//
// yaml-cpp's loader keeps one of two duplicate keys without a word, so `limits:` written
// twice in a configuration silently loses the first. The check reads the text with the
// engine's hardened reader: at most 1 MiB, UTF-8 without NUL bytes, one document, nesting
// at most 64 deep, at most 100,000 nodes after expanding aliases, no tags, map keys that
// are text, and no key twice in one map. Pure: no I/O, no state; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

}  // namespace vigil

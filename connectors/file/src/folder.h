// One configured folder, and the only ways the connector touches files in it: read a file
// and atomically replace one, both confined to the folder (see file_connector.h). Failures
// are CallOutcomes whose messages name the folder, never the path. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "vigil/connector.h"
#include "vigil/file_connector.h"

namespace vigil::file {

class Folder {
 public:
  // `root` is the folder's canonical path.
  Folder(std::string name, std::string root, bool writable) : name_(std::move(name)), root_(std::move(root)), writable_(writable) {}

  const std::string& name() const { return name_; }
  bool writable() const { return writable_; }

  // The file's bytes, at most maxBytes.
  std::variant<std::string, CallOutcome> read(const std::string& label, const std::string& path,
                                              std::size_t maxBytes) const;
  // Replaces (or creates) the file with `content`, atomically.
  std::variant<std::size_t, CallOutcome> write(const std::string& label, const std::string& path,
                                               const std::string& content) const;

 private:
  // The path's components below root_ after resolving symlinks, or path_refused / not_found.
  std::variant<std::vector<std::string>, CallOutcome> resolve(const std::string& label, const std::string& path) const;
  // An fd for the directory holding the last component, opened from root_ with O_NOFOLLOW
  // at every step; -1 with `failed` set.
  int openParent(const std::string& label, const std::vector<std::string>& parts, CallOutcome& failed) const;
  CallOutcome fail(const std::string& label, const std::string& code, const std::string& what, bool retryable) const;
  CallOutcome errnoFailure(const std::string& label, int error, const std::string& doing) const;

  std::string name_;
  std::string root_;
  bool writable_;
};

}  // namespace vigil::file

// The `file` connector: JSON and CSV files in named folders on this machine.
//
//   file.read_json  {folder, path}                    -> {data}                         consultation
//   file.read_csv   {folder, path, header? = true}    -> {rows, count}                  consultation
//   file.write_json {folder, path, data}              -> {path, bytes}                  disclosure
//   file.write_csv  {folder, path, rows, columns?}    -> {path, bytes}                  disclosure
//
// Paths are relative to the named folder and must stay inside it: absolute paths, `..`
// components, NUL bytes, and paths that resolve outside the folder's canonical path (through
// a symlinked file or directory) are refused. After that check the file is opened one
// component at a time from the folder with O_NOFOLLOW along the resolved path, so a symlink
// swapped in afterwards is refused rather than followed.
//
// CSV is RFC 4180: comma separated, fields quoted with '"' when they hold a comma, quote,
// CR or LF, quotes doubled inside; LF or CRLF between records on read, CRLF on write; a UTF-8
// BOM is skipped. Values read are strings. With `header`, the first record names the columns
// and each row is an object (every record must have as many fields as the header); without
// it, each row is an array. write_csv takes objects (columns: `columns`, else every key seen,
// sorted; a header line is written) or arrays (a header line only when `columns` is given);
// values are strings, numbers, booleans or null (empty).
//
// Writes are atomic: a hidden temp file in the same directory, fsync, rename over the target,
// fsync of the directory; on failure the temp file is removed. Only writable folders accept
// writes; the target's directory must exist.
//
// Failures (messages name the folder and field, never the path or content):
//   invalid_request  missing/unknown/mistyped parameter, unknown folder            not retryable
//   path_refused     the path is absolute, has '..' or NUL, or leaves the folder   not retryable
//   read_only        a write to a folder not declared writable                    not retryable
//   not_found        the file (or, for writes, its directory) does not exist      not retryable
//   too_large        the file or the content to write is bigger than maxBytes     not retryable
//   invalid_content  the file is not valid JSON/CSV/UTF-8 (line number given)     not retryable
//   io_error         the file system failed (full disk, permissions, I/O)         retryable
//
// Thread safety: the connector may be called from many threads; calls share nothing but the
// options, copied at registration. Two concurrent writes of one file: the last rename wins.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "vigil/connector.h"
#include "vigil/status.h"

namespace vigil {

struct FileFolder {
  std::string name;  // what `folder` names in a call
  std::string path;  // an existing directory
  bool writable = false;
};

struct FileConnectorOptions {
  std::vector<FileFolder> folders;
  std::size_t maxBytes = 10 * 1024 * 1024;  // per file read or written
  int maxConcurrency = 4;
};

// Registers "file". invalidArgument for a folder with an empty or duplicate name, or a path
// that is not an existing directory (resolved to its canonical path now), or maxBytes 0 or
// maxConcurrency < 1; alreadyExists when "file" is registered.
Status registerFileConnector(ConnectorRegistry& registry, const FileConnectorOptions& options);

}  // namespace vigil

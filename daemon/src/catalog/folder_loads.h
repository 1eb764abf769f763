// What the latest load of the workflow folders made of each file: published, unchanged or
// refused, and for a refused file the errors that refused it. A refused file keeps its
// previous version active (the catalog still holds it); this is how the API, and so the
// workbench, can say that the file an admin just changed was not taken, and why.
//
// `vigil serve` records here after every folder load (at start and on SIGHUP), one whole
// load at a time, and nothing else writes. Thread-safe: the API reads while a reload
// records.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "vigil/clock.h"
#include "vigil/diagnostic.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

class FolderLoads {
 public:
  enum class Result {
    kPublished,  // a new definition, now active (or listed, when older than the active one)
    kUnchanged,  // the definition the catalog already held
    kRefused,    // not loaded or not published: `problems` says why
  };

  struct File {
    // As the folder load names it: the workflow folder as configured, then the file's name
    // (the same path the log and `vigil validate` show, and the diagnostics' `file`).
    std::string path;
    TimePoint loadedAt;
    Result result = Result::kRefused;
    std::string workflow;               // the workflow's name, when the file could be read that far
    int version = 0;                    // the version the file offers, when read (else 0)
    std::vector<Diagnostic> problems;   // kRefused: the errors, sorted; otherwise empty
  };

  // A refused file's record: its errors (warnings do not refuse a file), and its workflow's
  // name and version when `wf`, what could be read of it, has them (`wf` may be null).
  static File refusedFile(const std::string& path, TimePoint loadedAt, const Workflow* wf, const std::vector<Diagnostic>& problems);
  // A refusal that no node of the file is to blame for (its version already published with
  // other content, a store that did not take it) as a diagnostic: at the file's top-level
  // `version:` line, or else at its start.
  static Diagnostic wholeFileProblem(const std::string& path, const std::string& source, const std::string& message);

  // Replaces the previous load's record with this load's: a file that now loads cleanly
  // has no problems any more, and a file no longer in the folders is no longer listed.
  void record(std::vector<File> files);

  // Every file of the latest load, by path (empty before the first load).
  std::vector<File> files() const;
  // The files whose latest load was refused, by path.
  std::vector<File> refused() const;

 private:
  mutable std::mutex mu_;
  std::vector<File> files_;  // GUARDED_BY(mu_), sorted by path
};

}  // namespace vigil::daemon

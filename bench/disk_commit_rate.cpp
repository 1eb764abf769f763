// The machine's own limit: single-row SQLite commits, fsync'd as the store's are (WAL,
// synchronous=FULL), on the file system the benchmark's data lives on. Measured in the same
// invocation as the engine figures, so their ratio does not depend on the day's machine.
#include <filesystem>

#include <SQLiteCpp/SQLiteCpp.h>

#include "bench_util.h"

namespace vigil::bench {

DiskCommitRate measureDiskCommitRate(const std::string& dir, int commits) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const std::string path = (fs::path(dir) / "disk-commit-rate.db").string();
  DiskCommitRate out;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=FULL");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    SQLite::Statement ins(db, "INSERT INTO t (v) VALUES (?)");
    const std::string row(200, 'x');  // about one small event's size
    std::vector<double> ms;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < commits; ++i) {
      auto s = std::chrono::steady_clock::now();
      SQLite::Transaction tx(db);
      ins.bind(1, row);
      ins.exec();
      ins.reset();
      tx.commit();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.commitsPerSec = static_cast<double>(commits) / secs;
    out.p50Ms = percentile(ms, 0.5);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  return out;
}

}  // namespace vigil::bench

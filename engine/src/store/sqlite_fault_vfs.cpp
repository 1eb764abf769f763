#include "sqlite_fault_vfs.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace vigil::sqlite {
namespace {

constexpr const char* kName = "vigil-fault-disk-full";

std::string gFlag;
sqlite3_vfs* gBase = nullptr;
sqlite3_vfs gVfs;
sqlite3_io_methods gMethods;

// A file of the base VFS, followed by this shim's own header.
struct FaultFile {
  sqlite3_file base;  // must be first: SQLite hands this pointer around
  sqlite3_file* real;
};

bool full() {
  struct stat st {};
  return ::stat(gFlag.c_str(), &st) == 0;
}

sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<FaultFile*>(f)->real; }

int xClose(sqlite3_file* f) {
  sqlite3_file* r = real(f);
  int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
  sqlite3_free(r);
  return rc;
}
int xRead(sqlite3_file* f, void* b, int n, sqlite3_int64 o) { return real(f)->pMethods->xRead(real(f), b, n, o); }
int xWrite(sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
  return full() ? SQLITE_FULL : real(f)->pMethods->xWrite(real(f), b, n, o);
}
int xTruncate(sqlite3_file* f, sqlite3_int64 s) { return real(f)->pMethods->xTruncate(real(f), s); }
int xSync(sqlite3_file* f, int flags) { return full() ? SQLITE_FULL : real(f)->pMethods->xSync(real(f), flags); }
int xFileSize(sqlite3_file* f, sqlite3_int64* s) { return real(f)->pMethods->xFileSize(real(f), s); }
int xLock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
int xUnlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
int xCheckReservedLock(sqlite3_file* f, int* o) { return real(f)->pMethods->xCheckReservedLock(real(f), o); }
int xFileControl(sqlite3_file* f, int op, void* a) { return real(f)->pMethods->xFileControl(real(f), op, a); }
int xSectorSize(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int xDeviceCharacteristics(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int xShmMap(sqlite3_file* f, int i, int sz, int e, void volatile** p) { return real(f)->pMethods->xShmMap(real(f), i, sz, e, p); }
int xShmLock(sqlite3_file* f, int o, int n, int fl) { return real(f)->pMethods->xShmLock(real(f), o, n, fl); }
void xShmBarrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int xShmUnmap(sqlite3_file* f, int d) { return real(f)->pMethods->xShmUnmap(real(f), d); }
int xFetch(sqlite3_file* f, sqlite3_int64 o, int n, void** p) { return real(f)->pMethods->xFetch(real(f), o, n, p); }
int xUnfetch(sqlite3_file* f, sqlite3_int64 o, void* p) { return real(f)->pMethods->xUnfetch(real(f), o, p); }

int xOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* outFlags) {
  auto* ff = reinterpret_cast<FaultFile*>(f);
  ff->base.pMethods = nullptr;
  ff->real = static_cast<sqlite3_file*>(sqlite3_malloc(gBase->szOsFile));
  if (ff->real == nullptr) return SQLITE_NOMEM;
  std::memset(ff->real, 0, static_cast<size_t>(gBase->szOsFile));
  int rc = gBase->xOpen(gBase, name, ff->real, flags, outFlags);
  if (rc != SQLITE_OK) {
    sqlite3_free(ff->real);
    return rc;
  }
  ff->base.pMethods = &gMethods;
  return SQLITE_OK;
}

void install() {
  gBase = sqlite3_vfs_find(nullptr);
  gVfs = *gBase;
  gVfs.zName = kName;
  gVfs.szOsFile = sizeof(FaultFile);
  gVfs.xOpen = xOpen;
  gVfs.pNext = nullptr;
  gMethods = sqlite3_io_methods{3,       xClose,     xRead,       xWrite,        xTruncate, xSync,
                                xFileSize, xLock,     xUnlock,     xCheckReservedLock, xFileControl,
                                xSectorSize, xDeviceCharacteristics, xShmMap, xShmLock, xShmBarrier, xShmUnmap,
                                xFetch,  xUnfetch};
  sqlite3_vfs_register(&gVfs, 0);
}

}  // namespace

std::string faultVfsName() {
  static std::once_flag once;
  static bool enabled = false;
  std::call_once(once, [] {
    const char* flag = std::getenv("VIGIL_FAULT_DISK_FULL_WHILE");
    if (flag == nullptr || *flag == '\0') return;
    gFlag = flag;
    install();
    enabled = true;
  });
  return enabled ? kName : "";
}

}  // namespace vigil::sqlite

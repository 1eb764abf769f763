// Internal: a SQLite VFS that passes everything to the default one, except that while a
// named file exists every write and sync fails as a full disk would (SQLITE_FULL). It is
// the seam the storage-fault tests use to fill the disk under a running daemon and free
// it again, without a real full filesystem. Off unless VIGIL_FAULT_DISK_FULL_WHILE names
// the file; it can only make writes fail, never change what is read or written.
#pragma once

#include <string>

namespace vigil::sqlite {

// The VFS to open the store with: "" (the default) unless the environment enables faults.
std::string faultVfsName();

}  // namespace vigil::sqlite

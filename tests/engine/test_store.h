// The store the engine's tests run on: the store conformance seam. VIGIL_TEST_STORE names
// it ("sqlite", the default: a data directory per test); the tests that reach the store
// only through this (engine, approvals, audit, retention, commits) are the suite every
// store implementation must pass. Opening the same directory twice gives two writers of
// one store, as two nodes would be.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "vigil/store.h"

namespace vigil::testing {

inline std::string testStoreKind() {
  const char* kind = std::getenv("VIGIL_TEST_STORE");
  return kind == nullptr || *kind == '\0' ? "sqlite" : kind;
}

inline Result<std::unique_ptr<Store>> openTestStore(const std::filesystem::path& dir) {
  const std::string kind = testStoreKind();
  if (kind == "sqlite") return openSqliteStore(dir.string());
  return Status::invalidArgument("VIGIL_TEST_STORE=" + kind + ": no such store in this build (sqlite)");
}

}  // namespace vigil::testing

// Store: where runs, their events, pending work, timers, the inbox, the audit trail and
// workflow definitions live, as small contracts by concern (vigil/store/*.h) under one
// transaction (Store::commit of a Batch, vigil/store/batch.h), so that a second store is
// written against each contract on its own. Implementations are thread-safe; the engine's
// committer is the one caller of commit().
#pragma once

#include <memory>
#include <string>

#include "vigil/status.h"
#include "vigil/store/approval_index.h"
#include "vigil/store/audit_store.h"
#include "vigil/store/batch.h"
#include "vigil/store/lease_table.h"
#include "vigil/store/run_log.h"
#include "vigil/store/work_queue.h"
#include "vigil/store/workflow_definitions.h"

namespace vigil {

class Store {
 public:
  virtual ~Store() = default;

  virtual RunLog& runs() = 0;
  virtual WorkQueue& work() = 0;
  virtual ApprovalIndex& approvals() = 0;
  virtual AuditStore& audit() = 0;
  virtual WorkflowDefinitions& workflows() = 0;
  virtual LeaseTable& leases() = 0;

  // Stores the batch in one transaction: every run family whose writes continue the stored
  // history, and the batch's own audit records; the other families are left out whole and
  // named in the report. An error (the disk, the database) means nothing was stored.
  virtual Result<CommitReport> commit(const Batch& batch) = 0;
  // Retention's erasure of one run family (batch.h), in one transaction, or nothing.
  virtual Status erase(const Erasure& erasure) = 0;
  // The integrity check of the underlying database ("ok" when sound).
  virtual Result<std::string> integrityCheck() = 0;
  // "sqlite" or "postgres": what `vigil audit verify` can check besides the chain.
  virtual const char* kind() const = 0;
};

// The embedded store: one SQLite file in `dataDir` (created if missing), WAL mode,
// synchronous=FULL. Upgrades an older schema in place; refuses a newer one.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dataDir);

// Schema versions this build understands (for the migration tests and `vigil --version`).
int sqliteSchemaVersion();

// The shared store: a PostgreSQL database (libpq `conninfo`, key=value or a postgres:// URI;
// the password apart, so it is in no string that might be logged), which several `vigil
// serve` processes may use at once. Creates or upgrades the schema; refuses a newer one, a
// database not in UTF-8, a conninfo holding a password, and a host other than this machine
// without sslmode=verify-full. `upgrade` false (what a check or a verifier reads) refuses an
// older schema instead of changing it.
Result<std::unique_ptr<Store>> openPostgresStore(const std::string& conninfo, const std::string& password,
                                                 bool upgrade = true);
int postgresSchemaVersion();

// The store's audit records as a verifier reads them (verifyAudit), whichever store it is.
std::unique_ptr<AuditSource> auditSourceOf(Store& store);

}  // namespace vigil

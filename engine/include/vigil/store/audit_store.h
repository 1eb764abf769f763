// AuditStore: the hash-chained audit trail. Run transitions' records come in through
// Store::commit; append() is its own transaction (access records, admin actions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/audit.h"
#include "vigil/signing.h"
#include "vigil/status.h"

namespace vigil {

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  virtual Status append(const std::vector<AuditEntry>& entries) = 0;
  // Signs the head, as the log named `origin` (a C2SP note key name), when it moved since
  // the last checkpoint; nullopt when it did not.
  virtual Result<std::optional<AuditCheckpoint>> checkpoint(const SigningKey& key, TimePoint now,
                                                            const std::string& origin) = 0;
  virtual Status addKey(const AuditKey& key, TimePoint now) = 0;
  // Records of one run (and its sub-workflow runs) from `since`, or (runId "") every record
  // from the first at or after `since`: one unbroken range. Up to `maxSeq`.
  virtual Result<std::vector<AuditRecord>> records(const std::string& runId, TimePoint since, uint64_t maxSeq) = 0;
  virtual Result<std::vector<merkle::Hash>> leaves(uint64_t upTo) = 0;
  virtual Result<std::vector<AuditCheckpoint>> checkpoints() = 0;
  virtual Result<std::vector<AuditKey>> keys() = 0;
  // One page of the access log (AccessLogQuery, vigil/audit.h); invalidArgument for a limit
  // out of range.
  virtual Result<AccessLogPage> accessLog(const AccessLogQuery& query) = 0;
};

}  // namespace vigil

// An AuditSource over any store's AuditStore: what `vigil audit verify` reads from a store
// that is not a SQLite file in a data directory.
#include "vigil/store.h"

namespace vigil {
namespace {

class StoreAuditSource final : public AuditSource {
 public:
  explicit StoreAuditSource(AuditStore& audit) : audit_(audit) {}

  Status forEachRecord(const std::function<bool(AuditRecord&)>& f) override {
    // Read in one range (records() is one unbroken range of the chain); the verifier's
    // memory is then the records' own, which a paged reader would bound.
    auto records = audit_.records("", TimePoint{}, UINT64_MAX);
    if (!records) return records.status();
    std::vector<AuditRecord> list = std::move(records).value();
    for (auto& r : list) {
      if (!f(r)) break;
    }
    return Status::ok();
  }
  Result<std::vector<AuditCheckpoint>> checkpoints() override { return audit_.checkpoints(); }
  Result<std::vector<AuditKey>> keys() override { return audit_.keys(); }

 private:
  AuditStore& audit_;
};

}  // namespace

Status checkAccessLogLimit(const AccessLogQuery& query) {
  if (query.limit < 1 || query.limit > kAccessLogMaxPage) {
    return Status::invalidArgument("an access log page holds 1 to " + std::to_string(kAccessLogMaxPage) + " records");
  }
  return Status::ok();
}

std::unique_ptr<AuditSource> auditSourceOf(Store& store) { return std::make_unique<StoreAuditSource>(store.audit()); }

}  // namespace vigil

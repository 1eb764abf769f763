// Partition leases and node heartbeats in PostgreSQL, each change one statement in its own
// transaction on the lease connection. A take is a compare-and-set on the epoch, so two
// nodes reaching for one expired partition cannot both get it.
#include "pg_concerns.h"

namespace vigil::pg {
namespace {

constexpr const char* kColumns = "part, node, epoch, expires_at";

Lease leaseAt(const Rows& r, int i) {
  return Lease{static_cast<int>(r.i64(i, 0)), r.text(i, 1), static_cast<uint64_t>(r.i64(i, 2)), r.time(i, 3)};
}

}  // namespace

Status PgLeaseTable::beat(const std::string& node, const std::string& address, TimePoint now) {
  return db_
      .leasing("recording a heartbeat",
               [&] {
                 db_.leaser->exec("INSERT INTO nodes(id, address, heartbeat_at) VALUES($1, $2, $3)"
                                  " ON CONFLICT(id) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at",
                                  Params().text(node).text(address).time(now));
                 return true;
               })
      .status();
}

Result<std::vector<NodeBeat>> PgLeaseTable::nodes() {
  return db_.leasing("reading nodes", [&] {
    Rows r = db_.leaser->exec("SELECT id, address, heartbeat_at FROM nodes ORDER BY id");
    std::vector<NodeBeat> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(NodeBeat{r.text(i, 0), r.text(i, 1), r.time(i, 2)});
    return out;
  });
}

Result<std::vector<Lease>> PgLeaseTable::leases() {
  return db_.leasing("reading leases", [&] {
    Rows r = db_.leaser->exec(std::string("SELECT ") + kColumns + " FROM leases ORDER BY part");
    std::vector<Lease> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(leaseAt(r, i));
    return out;
  });
}

Result<std::vector<Lease>> PgLeaseTable::renew(const std::string& node, const std::vector<Lease>& held, TimePoint expiresAt) {
  return db_.leasing("renewing leases", [&] {
    std::vector<std::string> pairs;
    for (const auto& l : held) pairs.push_back(std::to_string(l.partition) + ":" + std::to_string(l.epoch));
    // The rows locked in partition order first (a commit's fence check share-locks them in
    // that order too), so that a renewal and a commit never wait for each other in a cycle.
    Rows r = db_.leaser->exec(
        std::string("WITH locked AS (SELECT part FROM leases WHERE node = $2 AND part::text || ':' || epoch::text = ANY($3::text[])"
                    " ORDER BY part FOR UPDATE),"
                    " u AS (UPDATE leases SET expires_at = $1 WHERE part IN (SELECT part FROM locked) RETURNING ") +
            kColumns + ") SELECT * FROM u ORDER BY part",
        Params().time(expiresAt).text(node).text(textArray(pairs)));
    std::vector<Lease> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(leaseAt(r, i));
    return out;
  });
}

Result<std::optional<Lease>> PgLeaseTable::take(int partition, uint64_t epoch, const std::string& node, TimePoint expiresAt) {
  return db_.leasing("taking a lease", [&] {
    Rows r = db_.leaser->exec(std::string("UPDATE leases SET node = $1, epoch = epoch + 1, expires_at = $2 WHERE part = $3 AND epoch = $4"
                                          " RETURNING ") + kColumns,
                              Params().text(node).time(expiresAt).i64(partition).i64(static_cast<long long>(epoch)));
    return r.size() == 1 ? std::optional<Lease>(leaseAt(r, 0)) : std::nullopt;
  });
}

Status PgLeaseTable::release(int partition, uint64_t epoch, const std::string& node) {
  return db_
      .leasing("giving a lease back",
               [&] {
                 db_.leaser->exec("UPDATE leases SET node = '', expires_at = 0 WHERE part = $1 AND epoch = $2 AND node = $3",
                                  Params().i64(partition).i64(static_cast<long long>(epoch)).text(node));
                 return true;
               })
      .status();
}

Status PgLeaseTable::leave(const std::string& node) {
  return db_
      .leasing("removing a node",
               [&] {
                 db_.leaser->exec("DELETE FROM nodes WHERE id = $1", Params().text(node));
                 return true;
               })
      .status();
}

}  // namespace vigil::pg

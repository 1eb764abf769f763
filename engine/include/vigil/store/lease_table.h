// LeaseTable: which node may make a partition's side effects happen. Runs fall into
// kPartitions partitions by their family (partitionOf); a node dispatches connector calls
// and fires timers only for partitions it holds a lease on. Every change of owner raises
// the partition's epoch, and a commit of a call result or a fired timer names the epoch it
// was dispatched under (RunWrite::fence): the store leaves the family out when the lease
// has moved on since, so a node that was paused or cut off past its lease never commits a
// stale effect. The table holds the rows; when to renew, take or give one back is the
// engine's (exec/leases.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/clock.h"
#include "vigil/status.h"

namespace vigil {

// Fixed for a store's life: the schema creates one lease row per partition.
inline constexpr int kPartitions = 32;

// The partition of a run's family (FNV-1a of the top-level run id), the same on every node.
int partitionOf(const std::string& runId);

struct Lease {
  int partition = 0;
  std::string node;   // "" when nobody holds it
  uint64_t epoch = 0;  // raised at every change of owner; 0 before the first
  TimePoint expiresAt{};
};

struct NodeBeat {
  std::string node;
  std::string address;  // what the node serves on, for operators
  TimePoint heartbeatAt{};
};

class LeaseTable {
 public:
  virtual ~LeaseTable() = default;
  // Records that `node` is alive at `now`.
  virtual Status beat(const std::string& node, const std::string& address, TimePoint now) = 0;
  virtual Result<std::vector<NodeBeat>> nodes() = 0;
  // Every partition's row, in partition order.
  virtual Result<std::vector<Lease>> leases() = 0;
  // Extends the leases of `held` (partition and epoch) that are still `node`'s at that
  // epoch to `expiresAt`: those it still holds, which may be fewer than it thought if
  // another node took one after it expired, or another process of the same name took them
  // again at its start. Rows are locked in partition order, as a commit's fence check does.
  virtual Result<std::vector<Lease>> renew(const std::string& node, const std::vector<Lease>& held, TimePoint expiresAt) = 0;
  // Gives `partition` to `node` with the next epoch, if its epoch is still `epoch` (nobody
  // took it since it was read): the new lease, or nullopt when another node was first.
  virtual Result<std::optional<Lease>> take(int partition, uint64_t epoch, const std::string& node, TimePoint expiresAt) = 0;
  // Gives `partition` back, if `node` still holds it at `epoch`; the next owner raises the epoch.
  virtual Status release(int partition, uint64_t epoch, const std::string& node) = 0;
  // `node` stopped: it no longer counts among the live nodes that share the partitions.
  virtual Status leave(const std::string& node) = 0;
};

}  // namespace vigil

#include "vigil/store/batch.h"
#include "vigil/store/lease_table.h"

namespace vigil {

int partitionOf(const std::string& runId) {
  // FNV-1a, written out: std::hash may differ between builds, and every node of one store
  // must put a run in the same partition.
  uint32_t h = 2166136261u;
  for (unsigned char c : runFamily(runId)) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int>(h % kPartitions);
}

}  // namespace vigil

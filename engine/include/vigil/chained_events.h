// A run's events, read back from the only place they are stored: the payloads of its
// chained `collection` and `run` audit records, in chain order. After retention the
// payloads are gone and the run's `erasure` record holds what stays (each event's
// sequence, type, time, step and attempt, without its data). Used by the store and by
// whoever reads a run out of an export bundle, so both read history the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/run.h"
#include "vigil/status.h"

namespace vigil {

class ChainedEvents {
 public:
  explicit ChainedEvents(std::string runId) : runId_(std::move(runId)) {}
  // The next record of the run: its kind and payload (nullopt once erased). A payload that
  // is not what the chain writes gives ioError naming the run.
  Status add(std::string_view kind, const std::optional<std::string>& payload);
  std::vector<Event> take();

 private:
  std::string runId_;
  std::vector<Event> events_;
  bool erased_ = false;
  Json skeleton_;
};

// What an erasure record keeps of a run's events: [{seq, type, time, step, attempt}].
Json eventSkeleton(const std::vector<Event>& events);

}  // namespace vigil

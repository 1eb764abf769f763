#include "vigil/chained_events.h"

namespace vigil {

Status ChainedEvents::add(std::string_view kind, const std::optional<std::string>& payloadText) {
  if (kind != "collection" && kind != "run" && kind != "erasure") return Status::ok();
  if (!payloadText) {
    erased_ = erased_ || kind != "erasure";
    return Status::ok();
  }
  Json payload = Json::parse(*payloadText, nullptr, false);
  if (!payload.is_object()) return Status::ioError("run " + runId_ + ": an audit payload is not JSON");
  if (kind == "erasure") {
    if (payload.contains("events")) skeleton_ = payload["events"];
    return Status::ok();
  }
  if (payload.value("run", "") != runId_ || !payload.contains("events") || !payload["events"].is_array()) return Status::ok();
  for (const auto& j : payload["events"]) {
    auto e = Event::fromJson(j);
    if (!e) return Status::ioError("run " + runId_ + ": a chained event cannot be read");
    events_.push_back(std::move(e).value());
  }
  return Status::ok();
}

std::vector<Event> ChainedEvents::take() {
  if (erased_ && skeleton_.is_array()) {
    // Retention took the data: what the erasure record kept is the history that remains.
    events_.clear();
    for (const auto& j : skeleton_) {
      if (auto e = Event::fromJson(j)) events_.push_back(std::move(e).value());
    }
  }
  return std::move(events_);
}

Json eventSkeleton(const std::vector<Event>& events) {
  Json out = Json::array();
  for (const auto& e : events) {
    Event bare = e;
    bare.data = nullptr;
    out.push_back(bare.toJson());
  }
  return out;
}

}  // namespace vigil

#include "audit/witness_push.h"

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "http/http_client.h"
#include "vigil/note.h"

namespace vigil::daemon {

struct WitnessPusher::Impl {
  struct Witness {
    WitnessState state;
    std::optional<uint64_t> held;  // the size the witness says it holds, once known
    uint64_t refusedSize = 0;      // a checkpoint it refused: not offered again
    std::thread thread;
  };
  Leaves leaves;
  std::shared_ptr<spdlog::logger> log;
  std::chrono::milliseconds retry;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::optional<AuditCheckpoint> newest;
  bool stopping = false;
  std::vector<std::unique_ptr<Witness>> witnesses;

  bool wanted(const Witness& w) const {
    return newest && newest->size > w.state.cosignedSize && newest->size != w.refusedSize;
  }

  // The tlog-witness request: the size the witness holds, the proof from it, the note.
  std::optional<std::string> request(uint64_t old, const AuditCheckpoint& c, std::string* error) const {
    std::string body = "old " + std::to_string(old) + "\n";
    if (old > 0 && old < c.size) {
      auto all = leaves(c.size);
      if (!all) {
        *error = "cannot read the chain for a consistency proof: " + all.status().message();
        return std::nullopt;
      }
      for (const auto& h : merkle::consistencyProof(*all, old, c.size)) {
        body += note::base64(std::string_view(reinterpret_cast<const char*>(h.data()), h.size())) + "\n";
      }
    }
    return body + "\n" + c.note;
  }

  void run(Witness& w) {
    auto client = HttpClient::create(w.state.url, "", std::chrono::seconds(10));
    std::unique_lock lock(mu);
    while (!stopping) {
      cv.wait(lock, [&] { return stopping || wanted(w); });
      if (stopping) break;
      const AuditCheckpoint c = *newest;
      const uint64_t old = w.held.value_or(0);
      lock.unlock();
      std::string error;
      int status = 0;
      std::string answer;
      if (!client) {
        error = client.status().message();
      } else if (auto body = request(old, c, &error)) {
        auto r = client->send("POST", "/add-checkpoint", {{"Content-Type", "text/plain"}}, *body);
        if (r) {
          status = r->status;
          answer = r->body;
        } else {
          error = r.status().message();
        }
      }
      lock.lock();
      if (status == 200) {
        w.state.cosignedSize = c.size;
        w.state.cosignature = answer;
        w.state.reachable = true;
        w.state.lastError.clear();
        w.held = c.size;
        cv.notify_all();  // drain()
        continue;
      }
      if (status == 409) {
        // It holds another size: offer the same checkpoint again with a proof from there.
        uint64_t size = 0;
        const auto end = answer.find('\n');
        auto [p, ec] = std::from_chars(answer.data(), answer.data() + (end == std::string::npos ? answer.size() : end), size);
        if (ec == std::errc() && size > c.size) {
          w.held = size;
          w.refusedSize = c.size;
          w.state.reachable = true;
          w.state.lastError = "holds a checkpoint of " + std::to_string(size) + " records, more than the store's " +
                              std::to_string(c.size) + ": the store was cut, replaced or restored from an older copy";
          log->error("witness {} {}", w.state.url, w.state.lastError);
          continue;
        }
        if (ec == std::errc() && (!w.held || *w.held != size)) {
          w.held = size;
          continue;
        }
      }
      if (status != 0) {
        w.state.reachable = true;
        w.state.lastError = "refused the checkpoint at " + std::to_string(c.size) + " records (HTTP " + std::to_string(status) +
                            "): " + answer.substr(0, 200);
        w.refusedSize = c.size;
        log->warn("witness {} {}", w.state.url, w.state.lastError);
        continue;
      }
      if (w.state.reachable) log->warn("witness {} cannot be reached ({}); retrying every {} ms", w.state.url, error, retry.count());
      w.state.reachable = false;
      w.state.lastError = error;
      cv.notify_all();  // drain() does not wait for a witness that is down
      cv.wait_for(lock, retry, [&] { return stopping; });
    }
  }
};

WitnessPusher::WitnessPusher(std::vector<std::string> urls, Leaves leaves, std::shared_ptr<spdlog::logger> log,
                             std::chrono::milliseconds retry)
    : impl_(std::make_unique<Impl>()) {
  impl_->leaves = std::move(leaves);
  impl_->log = std::move(log);
  impl_->retry = retry;
  for (auto& url : urls) {
    auto w = std::make_unique<Impl::Witness>();
    w->state.url = std::move(url);
    impl_->witnesses.push_back(std::move(w));
  }
  for (auto& w : impl_->witnesses) w->thread = std::thread([this, p = w.get()] { impl_->run(*p); });
}

WitnessPusher::~WitnessPusher() { stop(); }

void WitnessPusher::push(const AuditCheckpoint& c) {
  if (c.note.empty()) return;  // format 1: witnesses take signed notes only
  std::lock_guard lock(impl_->mu);
  if (impl_->newest && impl_->newest->size >= c.size) return;
  impl_->newest = c;
  impl_->cv.notify_all();
}

bool WitnessPusher::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    for (const auto& w : impl_->witnesses) {
      if (impl_->wanted(*w) && w->state.reachable) return false;
    }
    return true;
  });
}

void WitnessPusher::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  for (auto& w : impl_->witnesses) {
    if (w->thread.joinable()) w->thread.join();
  }
}

std::vector<WitnessPusher::WitnessState> WitnessPusher::states() const {
  std::lock_guard lock(impl_->mu);
  std::vector<WitnessState> out;
  for (const auto& w : impl_->witnesses) out.push_back(w->state);
  return out;
}

}  // namespace vigil::daemon

#include "triggers/trigger_service.h"

#include <fnmatch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

#include "api/api.h"

namespace vigil::daemon {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFileBytes = 1 << 20;
constexpr int kMaxCatchUp = 10;  // fires per schedule per poll after a stall

std::string digestId(const std::string& prefix, const std::string& material) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(material.data(), material.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string id = prefix;
  for (unsigned i = 0; i < 12; ++i) {
    id += kHex[md[i] >> 4];
    id += kHex[md[i] & 15];
  }
  return id;
}

// Moves `file` into `dir/sub/`, creating it; false if the move failed.
bool moveInto(const fs::path& file, const std::string& sub) {
  std::error_code ec;
  fs::path target = file.parent_path() / sub;
  fs::create_directories(target, ec);
  fs::rename(file, target / file.filename(), ec);
  return !ec;
}

}  // namespace

TriggerService::TriggerService(Engine& engine, std::shared_ptr<Clock> clock, std::shared_ptr<spdlog::logger> log)
    : engine_(engine), clock_(std::move(clock)), log_(std::move(log)) {}

TriggerService::~TriggerService() { stop(); }

void TriggerService::setWorkflows(const std::vector<std::shared_ptr<const Workflow>>& workflows) {
  std::lock_guard lock(mu_);
  crons_.clear();
  watches_.clear();
  TimePoint now = clock_->now();
  for (const auto& wf : workflows) {
    for (const auto& t : wf->triggers) {
      if (t.kind == Trigger::Kind::kCron && t.cron) {
        const TimeZone* zone = t.zone ? &*t.zone : nullptr;
        auto next = t.cron->next(now, zone);
        if (next) crons_.push_back(Cron{wf->name, t.spec, *t.cron, t.zone, *next});
      } else if (t.kind == Trigger::Kind::kWatch) {
        watches_.push_back(Watch{wf->name, t.spec, t.pattern.empty() ? "*.json" : t.pattern});
      }
    }
  }
}

size_t TriggerService::pollOnce() {
  std::lock_guard lock(mu_);
  size_t started = 0;
  TimePoint now = clock_->now();
  for (auto& c : crons_) started += fireCron(c, now);
  for (const auto& w : watches_) started += scanFolder(w);
  return started;
}

size_t TriggerService::fireCron(Cron& c, TimePoint now) {
  size_t started = 0;
  for (int i = 0; i < kMaxCatchUp && c.next <= now; ++i) {
    std::string slot = formatTime(c.next);
    auto r = engine_.startRun(c.workflow, Json::object(), "system:cron", digestId("c-", c.workflow + "\n" + c.spec + "\n" + (c.zone ? c.zone->name() : "UTC") + "\n" + slot));
    if (r) {
      ++started;
      log_->info("cron '{}' started run {} of {} for {}", c.spec, *r, c.workflow, slot);
    } else if (r.status().code() != Status::Code::kAlreadyExists) {
      log_->error("cron '{}' could not start {}: {}", c.spec, c.workflow, r.status().message());
    }
    auto next = c.schedule.next(c.next, c.zone ? &*c.zone : nullptr);
    if (!next) {
      c.next = TimePoint::max();
      break;
    }
    c.next = *next;
  }
  return started;
}

size_t TriggerService::scanFolder(const Watch& w) {
  size_t started = 0;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(w.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    std::string name = it->path().filename().string();
    if (fnmatch(w.pattern.c_str(), name.c_str(), FNM_PERIOD) == 0) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto reject = [&](const std::string& reason) {
      std::error_code e2;
      fs::create_directories(fs::path(w.dir) / "rejected", e2);
      std::ofstream(fs::path(w.dir) / "rejected" / (f.filename().string() + ".reason.txt")) << reason << "\n";
      moveInto(f, "rejected");
      log_->warn("rejected {} from {}: {}", f.filename().string(), w.dir, reason);
    };
    std::error_code se;
    auto size = fs::file_size(f, se);
    if (se) continue;
    if (size > kMaxFileBytes) {
      reject("file is larger than 1 MiB");
      continue;
    }
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string content = ss.str();
    Json inputs;
    if (auto bad = parseJsonBody(content, &inputs)) {
      reject(Json::parse(bad->body)["error"]["message"].get<std::string>());
      continue;
    }
    auto r = engine_.startRun(w.workflow, inputs, "system:watch",
                              digestId("f-", w.workflow + "\n" + f.filename().string() + "\n" + content));
    if (r || r.status().code() == Status::Code::kAlreadyExists) {
      // The run is durable before the file moves: a crash between the two finds the run
      // again by its id next time and only moves the file.
      moveInto(f, "processed");
      if (r) {
        ++started;
        log_->info("file {} in {} started run {} of {}", f.filename().string(), w.dir, *r, w.workflow);
      } else {
        log_->info("file {} in {} is the same as one already taken in (same name and content); no new run",
                   f.filename().string(), w.dir);
      }
    } else if (r.status().code() == Status::Code::kInvalidArgument) {
      reject(r.status().message());
    } else {
      log_->error("file {} in {}: {}; will try again", f.filename().string(), w.dir, r.status().message());
    }
  }
  return started;
}

void TriggerService::start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] {
    while (true) {
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, interval, [this] { return stopping_; })) return;
      }
      pollOnce();
    }
  });
}

void TriggerService::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::daemon

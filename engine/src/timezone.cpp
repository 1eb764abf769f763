#include "vigil/timezone.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace vigil {
namespace {

long long readBE(const std::string& d, size_t pos, int bytes) {
  unsigned long long v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(d[pos + static_cast<size_t>(i)]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<long long>(v);
}

struct Counts {
  long long isut, isstd, leap, time, type, chars;
};

bool readCounts(const std::string& d, size_t pos, Counts* c) {
  if (d.size() < pos + 44 || d.compare(pos, 4, "TZif") != 0) return false;
  c->isut = readBE(d, pos + 20, 4);
  c->isstd = readBE(d, pos + 24, 4);
  c->leap = readBE(d, pos + 28, 4);
  c->time = readBE(d, pos + 32, 4);
  c->type = readBE(d, pos + 36, 4);
  c->chars = readBE(d, pos + 40, 4);
  return c->isut >= 0 && c->isstd >= 0 && c->leap >= 0 && c->time >= 0 && c->type > 0 && c->type < 256 &&
         c->chars >= 0 && c->time < 100000;
}

}  // namespace

TimeZone TimeZone::utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

bool TimeZone::validName(const std::string& name) {
  static const std::regex kName("[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*");
  return name.size() <= 64 && std::regex_match(name, kName);
}

Result<TimeZone> TimeZone::load(const std::string& name, const std::string& zoneinfoDir) {
  if (!validName(name)) {
    return Status::invalidArgument("'" + name + "' is not a time zone name such as Europe/London");
  }
  if (name == "UTC" || name == "Etc/UTC") return utc();
  std::ifstream in(zoneinfoDir + "/" + name, std::ios::binary);
  if (!in) return Status::notFound("unknown time zone '" + name + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string d = ss.str();
  Counts c{};
  if (!readCounts(d, 0, &c)) return Status::invalidArgument("time zone file for '" + name + "' is not TZif");
  int timeBytes = 4;
  size_t pos = 44;
  if (d[4] >= '2') {
    // Skip the 32-bit block and use the 64-bit one that follows it.
    pos += static_cast<size_t>(c.time * 5 + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut);
    if (!readCounts(d, pos, &c)) return Status::invalidArgument("time zone file for '" + name + "' is damaged");
    pos += 44;
    timeBytes = 8;
  }
  size_t need = pos + static_cast<size_t>(c.time * (timeBytes + 1) + c.type * 6);
  if (d.size() < need) return Status::invalidArgument("time zone file for '" + name + "' is truncated");
  TimeZone z;
  z.name_ = name;
  std::vector<int> typeOffsets;
  std::vector<bool> typeDst;
  size_t typesAt = pos + static_cast<size_t>(c.time * (timeBytes + 1));
  for (long long i = 0; i < c.type; ++i) {
    typeOffsets.push_back(static_cast<int>(readBE(d, typesAt + static_cast<size_t>(i) * 6, 4)));
    typeDst.push_back(d[typesAt + static_cast<size_t>(i) * 6 + 4] != 0);
  }
  for (long long i = 0; i < c.time; ++i) {
    z.transitions_.push_back(readBE(d, pos + static_cast<size_t>(i * timeBytes), timeBytes));
    auto type = static_cast<unsigned char>(d[pos + static_cast<size_t>(c.time * timeBytes + i)]);
    if (type >= typeOffsets.size()) return Status::invalidArgument("time zone file for '" + name + "' is damaged");
    z.offsetAfter_.push_back(typeOffsets[type]);
  }
  // Before the first transition: the first standard-time type (RFC 8536 section 3.2).
  z.initialOffset_ = typeOffsets[0];
  for (size_t i = 0; i < typeOffsets.size(); ++i) {
    if (!typeDst[i]) {
      z.initialOffset_ = typeOffsets[i];
      break;
    }
  }
  return z;
}

std::chrono::seconds TimeZone::offsetAt(TimePoint t) const {
  long long s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (it == transitions_.begin()) return std::chrono::seconds(initialOffset_);
  return std::chrono::seconds(offsetAfter_[static_cast<size_t>(it - transitions_.begin() - 1)]);
}

}  // namespace vigil

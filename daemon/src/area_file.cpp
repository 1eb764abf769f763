#include "area_file.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <yaml-cpp/yaml.h>

#include "config_yaml.h"
#include "vigil/duration.h"
#include "vigil/merkle.h"
#include "vigil/yaml_check.h"

namespace vigil::daemon {
namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  Status error(const YAML::Node& n, const std::string& message) const {
    return Status::invalidArgument(where(path_, n) + ": error: " + message);
  }
  Status keys(const YAML::Node& n, const std::string& what, const std::set<std::string>& known) const {
    if (!n.IsMap()) return error(n, what + " must be a map");
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>("");
      if (known.count(key) == 0) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        return error(kv.first, "unknown key '" + key + "' in " + what + " (known: " + list + ")");
      }
    }
    return Status::ok();
  }
  Result<std::string> text(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return error(n, "'" + key + "' must be text");
    return n.as<std::string>();
  }
  Result<CivilDay> day(const YAML::Node& n, const std::string& key) const {
    auto t = text(n, key);
    if (!t) return t.status();
    auto d = parseDay(*t);
    if (!d) return error(n, "'" + key + "' must be a YYYY-MM-DD date");
    return *d;
  }
  Result<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& key) const {
    auto t = text(n, key);
    if (!t) return t.status();
    auto d = parseDuration(*t);
    if (!d || d->count() <= 0) return error(n, "'" + key + "' must be a positive duration such as 2h, 90m or 90d");
    return *d;
  }
  Result<int> integer(const YAML::Node& n, const std::string& key, int lo, int hi) const {
    long long v = 0;
    if (Status s = readPositive(path_, n, key, lo, hi, &v); !s) return s;
    return static_cast<int>(v);
  }
  // "HH:MM" to minutes after midnight; 24:00 allowed as an end.
  Result<int> clockTime(const YAML::Node& n, std::string_view t) const {
    if (t.size() != 5 || t[2] != ':' || !isdigit(t[0]) || !isdigit(t[1]) || !isdigit(t[3]) || !isdigit(t[4])) {
      return error(n, "'hours' must look like 09:00-17:00");
    }
    int h = (t[0] - '0') * 10 + (t[1] - '0');
    int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return error(n, "'hours' has a time of day that does not exist");
    return h * 60 + m;
  }

  Status holidays(const YAML::Node& list, Calendar* cal) const {
    if (!list.IsSequence()) return error(list, "'holidays' must be a list of dates or {from, to} ranges");
    for (const auto& h : list) {
      if (h.IsScalar()) {
        auto d = day(h, "holidays");
        if (!d) return d.status();
        cal->addHoliday(*d);
        continue;
      }
      if (Status s = keys(h, "a holiday", {"date", "from", "to", "name"}); !s) return s;
      if (h["date"]) {
        if (h["from"] || h["to"]) return error(h, "a holiday has either 'date' or 'from' and 'to'");
        auto d = day(h["date"], "date");
        if (!d) return d.status();
        cal->addHoliday(*d);
        continue;
      }
      if (!h["from"] || !h["to"]) return error(h, "a holiday needs 'date', or 'from' and 'to'");
      auto from = day(h["from"], "from");
      if (!from) return from.status();
      auto to = day(h["to"], "to");
      if (!to) return to.status();
      if (*to < *from || *to - *from > 366) return error(h["to"], "'to' must be on or after 'from' and within a year of it");
      for (CivilDay d = *from; d <= *to; ++d) cal->addHoliday(d);
    }
    return Status::ok();
  }

  Result<Calendar> calendar(const YAML::Node& n, const std::string& name, const std::string& zoneinfoDir) const {
    if (Status s = keys(n, "calendar '" + name + "'", {"timezone", "working_days", "hours", "holidays", "include", "description"}); !s) {
      return s;
    }
    Calendar cal;
    if (n["timezone"]) {
      auto zone = text(n["timezone"], "timezone");
      if (!zone) return zone.status();
      auto tz = TimeZone::load(*zone, zoneinfoDir);
      if (!tz) return error(n["timezone"], "unknown time zone '" + *zone + "'");
      cal.setTimeZone(std::move(tz).value());
    }
    if (n["working_days"]) {
      static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
      std::array<bool, 7> days{};
      if (!n["working_days"].IsSequence()) return error(n["working_days"], "'working_days' must be a list such as [mon, tue, wed, thu, fri]");
      for (const auto& d : n["working_days"]) {
        auto t = text(d, "working_days");
        if (!t) return t.status();
        auto it = std::find(std::begin(kDays), std::end(kDays), *t);
        if (it == std::end(kDays)) return error(d, "'" + *t + "' is not a day (sun, mon, tue, wed, thu, fri, sat)");
        days[it - std::begin(kDays)] = true;
      }
      cal.setWorkingWeekdays(days);
    }
    if (n["hours"]) {
      auto t = text(n["hours"], "hours");
      if (!t) return t.status();
      if (t->size() != 11 || (*t)[5] != '-') return error(n["hours"], "'hours' must look like 09:00-17:00");
      auto start = clockTime(n["hours"], std::string_view(*t).substr(0, 5));
      if (!start) return start.status();
      auto end = clockTime(n["hours"], std::string_view(*t).substr(6));
      if (!end) return end.status();
      if (*end <= *start) return error(n["hours"], "'hours' must end after they start");
      cal.setHours(*start, *end);
    }
    if (n["holidays"]) {
      if (Status s = holidays(n["holidays"], &cal); !s) return s;
    }
    return cal;
  }

  Result<Timescale> timescale(const YAML::Node& n, const std::string& name, const Area& area) const {
    if (Status s = keys(n, "timescale '" + name + "'", {"calendar", "targets", "max_working_days", "repeat_referrals", "description"}); !s) {
      return s;
    }
    Timescale ts;
    if (n["calendar"]) {
      auto c = text(n["calendar"], "calendar");
      if (!c) return c.status();
      if (area.calendars.count(*c) == 0) return error(n["calendar"], "no calendar '" + *c + "' in this file");
      ts.calendar = *c;
    }
    if (!n["targets"] || !n["targets"].IsMap() || n["targets"].size() == 0) {
      return error(n, "timescale '" + name + "' needs 'targets': a map of bands to { within, clock }");
    }
    for (const auto& kv : n["targets"]) {
      std::string band = kv.first.as<std::string>("");
      if (Status s = keys(kv.second, "target '" + band + "'", {"within", "clock"}); !s) return s;
      if (!kv.second["within"]) return error(kv.second, "target '" + band + "' needs 'within'");
      auto within = duration(kv.second["within"], "within");
      if (!within) return within.status();
      Timescale::Target target{*within, false};
      if (kv.second["clock"]) {
        auto clock = text(kv.second["clock"], "clock");
        if (!clock) return clock.status();
        if (*clock != "continuous" && *clock != "working") {
          return error(kv.second["clock"], "'clock' must be 'continuous' (runs out of hours) or 'working' (pauses)");
        }
        target.working = *clock == "working";
      }
      ts.targets[band] = target;
    }
    if (n["max_working_days"]) {
      auto d = integer(n["max_working_days"], "max_working_days", 1, 365);
      if (!d) return d.status();
      ts.maxWorkingDays = *d;
    }
    if (const YAML::Node& r = n["repeat_referrals"]) {
      if (Status s = keys(r, "'repeat_referrals'", {"count", "within"}); !s) return s;
      if (!r["count"] || !r["within"]) return error(r, "'repeat_referrals' needs 'count' and 'within'");
      auto count = integer(r["count"], "count", 2, 1000);
      if (!count) return count.status();
      auto within = duration(r["within"], "within");
      if (!within) return within.status();
      ts.repeatCount = *count;
      ts.repeatWithin = *within;
    }
    return ts;
  }

 private:
  std::string path_;
};

}  // namespace

Result<std::shared_ptr<const Area>> loadAreaFile(const std::string& path, const std::string& zoneinfoDir) {
  std::ifstream in(path);
  if (!in) return Status::notFound(path + ":1:1: error: cannot open the area file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (1 << 20)) return Status::invalidArgument(path + ":1:1: error: an area file must be under 1 MiB");
  // The hardened reader first (duplicate keys, tags, depth, aliases), then yaml-cpp's tree.
  if (auto refused = checkYaml(text)) return Status::invalidArgument(refused->format(path));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return Status::invalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                   ": error: " + e.msg);
  }
  Reader r(path);
  if (Status s = r.keys(root, "an area file", {"area", "description", "default_calendar", "calendars", "timescales"}); !s) return s;
  if (!root["area"]) return r.error(root, "an area file starts with 'area: NAME'");
  auto area = std::make_shared<Area>();
  auto name = r.text(root["area"], "area");
  if (!name) return name.status();
  area->name = *name;
  area->hash = merkle::toHex(merkle::sha256(text));
  if (const YAML::Node& cals = root["calendars"]) {
    if (!cals.IsMap()) return r.error(cals, "'calendars' must be a map of names to calendars");
    for (const auto& kv : cals) {
      std::string calName = kv.first.as<std::string>("");
      auto cal = r.calendar(kv.second, calName, zoneinfoDir);
      if (!cal) return cal.status();
      area->calendars[calName] = std::move(cal).value();
    }
    // include: a school calendar takes the bank holidays of the office calendar.
    for (const auto& kv : cals) {
      const YAML::Node& inc = kv.second["include"];
      if (!inc) continue;
      if (!inc.IsSequence()) return r.error(inc, "'include' must be a list of calendar names");
      Calendar& into = area->calendars[kv.first.as<std::string>("")];
      for (const auto& other : inc) {
        auto otherName = r.text(other, "include");
        if (!otherName) return otherName.status();
        auto it = area->calendars.find(*otherName);
        if (it == area->calendars.end()) return r.error(other, "no calendar '" + *otherName + "' in this file");
        for (CivilDay d : it->second.holidays()) into.addHoliday(d);
      }
    }
  }
  if (root["default_calendar"]) {
    auto def = r.text(root["default_calendar"], "default_calendar");
    if (!def) return def.status();
    if (area->calendars.count(*def) == 0) return r.error(root["default_calendar"], "no calendar '" + *def + "' in this file");
    area->defaultCalendar = *def;
  } else if (area->calendars.size() == 1) {
    area->defaultCalendar = area->calendars.begin()->first;
  } else if (!area->calendars.empty()) {
    return r.error(root, "name the 'default_calendar' (this file has more than one)");
  }
  if (const YAML::Node& scales = root["timescales"]) {
    if (!scales.IsMap()) return r.error(scales, "'timescales' must be a map of names to timescales");
    for (const auto& kv : scales) {
      auto ts = r.timescale(kv.second, kv.first.as<std::string>(""), *area);
      if (!ts) return ts.status();
      area->timescales[kv.first.as<std::string>("")] = std::move(ts).value();
    }
  }
  return std::shared_ptr<const Area>(std::move(area));
}

Status keepAreaFile(const std::string& path, const Area& area, const std::string& dataDir) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(dataDir) / "areas";
  std::filesystem::create_directories(dir, ec);
  std::filesystem::path kept = dir / (area.hash + ".yaml");
  if (std::filesystem::exists(kept, ec)) return Status::ok();
  std::filesystem::path tmp = dir / (area.hash + ".yaml.tmp");
  std::filesystem::copy_file(path, tmp, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return Status::internal("cannot keep a copy of the area file in " + dir.string() + ": " + ec.message());
  // The file may have been edited since it was read: keep the copy only if it is the same.
  auto copy = loadAreaFile(tmp.string());
  if (!copy || (*copy)->hash != area.hash) {
    std::filesystem::remove(tmp, ec);
    return Status::failedPrecondition(path + " changed while vigil was reading it; start again");
  }
  std::filesystem::rename(tmp, kept, ec);
  if (ec) return Status::internal("cannot keep a copy of the area file in " + dir.string() + ": " + ec.message());
  return Status::ok();
}

Result<std::shared_ptr<const Area>> keptArea(const std::string& dataDir, const std::string& hash) {
  if (!merkle::fromHex(hash)) return Status::invalidArgument("the run names an area that is not a SHA-256 hash");
  std::string path = (std::filesystem::path(dataDir) / "areas" / (hash + ".yaml")).string();
  if (!std::filesystem::exists(path)) {
    return Status::notFound("the area file the run used (sha256 " + hash.substr(0, 16) + "...) is not in " + dataDir + "/areas");
  }
  auto area = loadAreaFile(path);
  if (area && (*area)->hash != hash) return Status::ioError(path + " does not hash to the name it has");
  return area;
}

}  // namespace vigil::daemon

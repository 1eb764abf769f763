#include "area_file.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "config_yaml.h"
#include "vigil/duration.h"
#include "vigil/merkle.h"
#include "vigil/yaml_check.h"

namespace vigil::daemon {
namespace {

// Walks an area file, recording every problem in `problems` and going on: each accessor
// returns nullopt (or false) when it recorded one, and its caller skips what depended on
// that value, so one mistake is reported once rather than again by what follows from it.
class Reader {
 public:
  explicit Reader(FileProblems* problems) : problems_(problems) {}

  void error(const YAML::Node& n, const std::string& message) const { problem(problems_, n, message); }
  // Records each key of `n` that is not `known`; false (and a problem) when `n` is no map.
  bool keys(const YAML::Node& n, const std::string& what, const std::set<std::string>& known) const {
    if (!n.IsMap()) {
      error(n, what + " must be a map");
      return false;
    }
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>("");
      if (known.count(key) == 0) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        error(kv.first, "unknown key '" + key + "' in " + what + " (known: " + list + ")");
      }
    }
    return true;
  }
  std::optional<std::string> text(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) {
      error(n, "'" + key + "' must be text");
      return std::nullopt;
    }
    return n.as<std::string>();
  }
  std::optional<CivilDay> day(const YAML::Node& n, const std::string& key) const {
    auto t = text(n, key);
    if (!t) return std::nullopt;
    auto d = parseDay(*t);
    if (!d) error(n, "'" + key + "' must be a YYYY-MM-DD date");
    return d;
  }
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& key) const {
    auto t = text(n, key);
    if (!t) return std::nullopt;
    auto d = parseDuration(*t);
    if (!d || d->count() <= 0) {
      error(n, "'" + key + "' must be a positive duration such as 2h, 90m or 90d");
      return std::nullopt;
    }
    return d;
  }
  std::optional<int> integer(const YAML::Node& n, const std::string& key, int lo, int hi) const {
    long long v = 0;
    if (!readPositive(problems_, n, key, lo, hi, &v)) return std::nullopt;
    return static_cast<int>(v);
  }
  // "HH:MM" to minutes after midnight; 24:00 allowed as an end.
  std::optional<int> clockTime(const YAML::Node& n, std::string_view t) const {
    if (t.size() != 5 || t[2] != ':' || !isdigit(t[0]) || !isdigit(t[1]) || !isdigit(t[3]) || !isdigit(t[4])) {
      error(n, "'hours' must look like 09:00-17:00");
      return std::nullopt;
    }
    int h = (t[0] - '0') * 10 + (t[1] - '0');
    int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) {
      error(n, "'hours' has a time of day that does not exist");
      return std::nullopt;
    }
    return h * 60 + m;
  }

  void holidays(const YAML::Node& list, Calendar* cal) const {
    if (!list.IsSequence()) {
      error(list, "'holidays' must be a list of dates or {from, to} ranges");
      return;
    }
    for (const auto& h : list) {
      if (h.IsScalar()) {
        if (auto d = day(h, "holidays")) cal->addHoliday(*d);
        continue;
      }
      if (!keys(h, "a holiday", {"date", "from", "to", "name"})) continue;
      if (h["date"]) {
        if (h["from"] || h["to"]) {
          error(h, "a holiday has either 'date' or 'from' and 'to'");
        } else if (auto d = day(h["date"], "date")) {
          cal->addHoliday(*d);
        }
        continue;
      }
      if (!h["from"] || !h["to"]) {
        error(h, "a holiday needs 'date', or 'from' and 'to'");
        continue;
      }
      auto from = day(h["from"], "from");
      auto to = day(h["to"], "to");
      if (!from || !to) continue;
      if (*to < *from || *to - *from > 366) {
        error(h["to"], "'to' must be on or after 'from' and within a year of it");
        continue;
      }
      for (CivilDay d = *from; d <= *to; ++d) cal->addHoliday(d);
    }
  }

  // A calendar; its problems are recorded, and what it holds is then of no use.
  Calendar calendar(const YAML::Node& n, const std::string& name, const std::string& zoneinfoDir) const {
    Calendar cal;
    if (!keys(n, "calendar '" + name + "'", {"timezone", "working_days", "hours", "holidays", "include", "description"})) return cal;
    if (n["timezone"]) {
      if (auto zone = text(n["timezone"], "timezone")) {
        auto tz = TimeZone::load(*zone, zoneinfoDir);
        if (tz) {
          cal.setTimeZone(std::move(tz).value());
        } else {
          error(n["timezone"], "unknown time zone '" + *zone + "'");
        }
      }
    }
    if (const YAML::Node& list = n["working_days"]) {
      static const char* kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
      std::array<bool, 7> days{};
      if (!list.IsSequence()) {
        error(list, "'working_days' must be a list such as [mon, tue, wed, thu, fri]");
      } else {
        for (const auto& d : list) {
          auto t = text(d, "working_days");
          if (!t) continue;
          auto it = std::find(std::begin(kDays), std::end(kDays), *t);
          if (it == std::end(kDays)) {
            error(d, "'" + *t + "' is not a day (sun, mon, tue, wed, thu, fri, sat)");
            continue;
          }
          days[it - std::begin(kDays)] = true;
        }
        cal.setWorkingWeekdays(days);
      }
    }
    if (const YAML::Node& hours = n["hours"]) {
      if (auto t = text(hours, "hours")) {
        if (t->size() != 11 || (*t)[5] != '-') {
          error(hours, "'hours' must look like 09:00-17:00");
        } else if (auto start = clockTime(hours, std::string_view(*t).substr(0, 5))) {
          if (auto end = clockTime(hours, std::string_view(*t).substr(6))) {
            if (*end <= *start) {
              error(hours, "'hours' must end after they start");
            } else {
              cal.setHours(*start, *end);
            }
          }
        }
      }
    }
    if (n["holidays"]) holidays(n["holidays"], &cal);
    return cal;
  }

  // A timescale; `calendars` names every calendar the file declares.
  Timescale timescale(const YAML::Node& n, const std::string& name, const std::set<std::string>& calendars) const {
    Timescale ts;
    if (!keys(n, "timescale '" + name + "'", {"calendar", "targets", "max_working_days", "repeat_referrals", "description"})) {
      return ts;
    }
    if (n["calendar"]) {
      if (auto c = text(n["calendar"], "calendar")) {
        if (calendars.count(*c) == 0) {
          error(n["calendar"], "no calendar '" + *c + "' in this file");
        } else {
          ts.calendar = *c;
        }
      }
    }
    if (!n["targets"] || !n["targets"].IsMap() || n["targets"].size() == 0) {
      error(n, "timescale '" + name + "' needs 'targets': a map of bands to { within, clock }");
    } else {
      for (const auto& kv : n["targets"]) {
        std::string band = kv.first.as<std::string>("");
        if (!keys(kv.second, "target '" + band + "'", {"within", "clock"})) continue;
        Timescale::Target target{std::chrono::milliseconds(0), false};
        if (!kv.second["within"]) {
          error(kv.second, "target '" + band + "' needs 'within'");
        } else if (auto within = duration(kv.second["within"], "within")) {
          target.within = *within;
        }
        if (kv.second["clock"]) {
          if (auto clock = text(kv.second["clock"], "clock")) {
            if (*clock != "continuous" && *clock != "working") {
              error(kv.second["clock"], "'clock' must be 'continuous' (runs out of hours) or 'working' (pauses)");
            }
            target.working = *clock == "working";
          }
        }
        ts.targets[band] = target;
      }
    }
    if (n["max_working_days"]) {
      if (auto d = integer(n["max_working_days"], "max_working_days", 1, 365)) ts.maxWorkingDays = *d;
    }
    if (const YAML::Node& r = n["repeat_referrals"]) {
      if (keys(r, "'repeat_referrals'", {"count", "within"})) {
        if (!r["count"] || !r["within"]) {
          error(r, "'repeat_referrals' needs 'count' and 'within'");
        } else {
          auto count = integer(r["count"], "count", 2, 1000);
          auto within = duration(r["within"], "within");
          if (count && within) {
            ts.repeatCount = *count;
            ts.repeatWithin = *within;
          }
        }
      }
    }
    return ts;
  }

 private:
  FileProblems* problems_;
};

}  // namespace

Result<std::shared_ptr<const Area>> loadAreaFile(const std::string& path, const std::string& zoneinfoDir) {
  std::ifstream in(path);
  if (!in) return Status::notFound(path + ":1:1: error: cannot open the area file");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return loadAreaText(text, path, zoneinfoDir);
}

Result<std::shared_ptr<const Area>> loadAreaText(const std::string& text, const std::string& path, const std::string& zoneinfoDir) {
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
  FileProblems problems(path);
  Reader r(&problems);
  if (!r.keys(root, "an area file", {"area", "description", "default_calendar", "calendars", "timescales"})) {
    return problems.status();
  }
  auto area = std::make_shared<Area>();
  if (!root["area"]) {
    r.error(root, "an area file starts with 'area: NAME'");
  } else if (auto name = r.text(root["area"], "area")) {
    area->name = *name;
  }
  area->hash = merkle::toHex(merkle::sha256(text));
  // Every calendar the file declares, read or not, so that a reference to one that has
  // problems of its own is not reported again as naming no calendar.
  std::set<std::string> declared;
  if (const YAML::Node& cals = root["calendars"]) {
    if (!cals.IsMap()) {
      r.error(cals, "'calendars' must be a map of names to calendars");
    } else {
      for (const auto& kv : cals) {
        std::string calName = kv.first.as<std::string>("");
        declared.insert(calName);
        area->calendars[calName] = r.calendar(kv.second, calName, zoneinfoDir);
      }
      // include: a school calendar takes the bank holidays of the office calendar.
      for (const auto& kv : cals) {
        if (!kv.second.IsMap() || !kv.second["include"]) continue;
        const YAML::Node& inc = kv.second["include"];
        if (!inc.IsSequence()) {
          r.error(inc, "'include' must be a list of calendar names");
          continue;
        }
        Calendar& into = area->calendars[kv.first.as<std::string>("")];
        for (const auto& other : inc) {
          auto otherName = r.text(other, "include");
          if (!otherName) continue;
          auto it = area->calendars.find(*otherName);
          if (it == area->calendars.end()) {
            r.error(other, "no calendar '" + *otherName + "' in this file");
            continue;
          }
          for (CivilDay d : it->second.holidays()) into.addHoliday(d);
        }
      }
    }
  }
  if (root["default_calendar"]) {
    if (auto def = r.text(root["default_calendar"], "default_calendar")) {
      if (declared.count(*def) == 0) {
        r.error(root["default_calendar"], "no calendar '" + *def + "' in this file");
      } else {
        area->defaultCalendar = *def;
      }
    }
  } else if (declared.size() == 1) {
    area->defaultCalendar = *declared.begin();
  } else if (!declared.empty()) {
    r.error(root, "name the 'default_calendar' (this file has more than one)");
  }
  if (const YAML::Node& scales = root["timescales"]) {
    if (!scales.IsMap()) {
      r.error(scales, "'timescales' must be a map of names to timescales");
    } else {
      for (const auto& kv : scales) {
        const std::string tsName = kv.first.as<std::string>("");
        area->timescales[tsName] = r.timescale(kv.second, tsName, declared);
      }
    }
  }
  if (!problems.empty()) return problems.status();
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

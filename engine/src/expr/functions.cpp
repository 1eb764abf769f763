// The fixed function set. Every function checks its argument types and reports the
// column of the call on failure; none performs I/O or reads the real clock.
#include <algorithm>
#include <cmath>

#include "eval.h"
#include "../match/person_match.h"
#include "vigil/duration.h"

namespace vigil::expr_detail {
namespace {

constexpr FnInfo kFunctions[] = {
    {"len", Fn::kLen, 1, 1},
    {"lower", Fn::kLower, 1, 1},
    {"upper", Fn::kUpper, 1, 1},
    {"trim", Fn::kTrim, 1, 1},
    {"contains", Fn::kContains, 2, 2},
    {"startsWith", Fn::kStartsWith, 2, 2},
    {"endsWith", Fn::kEndsWith, 2, 2},
    {"matches", Fn::kMatches, 2, 2},
    {"now", Fn::kNow, 0, 0},
    {"duration", Fn::kDuration, 1, 1},
    {"time_add", Fn::kTimeAdd, 2, 2},
    {"time_diff", Fn::kTimeDiff, 2, 2},
    {"date", Fn::kDate, 1, 1},
    {"days_between", Fn::kDaysBetween, 2, 2},
    {"working_days_after", Fn::kWorkingDaysAfter, 2, 3},
    {"is_working_day", Fn::kIsWorkingDay, 1, 2},
    {"next_opening", Fn::kNextOpening, 1, 2},
    {"working_time_add", Fn::kWorkingTimeAdd, 2, 3},
    {"sla_deadline", Fn::kSlaDeadline, 3, 3},
    {"timescale", Fn::kTimescale, 1, 1},
    {"default", Fn::kDefault, 2, 2},
    {"string", Fn::kString, 1, 1},
    {"number", Fn::kNumber, 1, 1},
    {"min", Fn::kMin, 1, -1},
    {"max", Fn::kMax, 1, -1},
    {"sum", Fn::kSum, 1, 1},
    {"round", Fn::kRound, 1, 2},
    {"abs", Fn::kAbs, 1, 1},
    {"join", Fn::kJoin, 2, 2},
    {"split", Fn::kSplit, 2, 2},
    {"keys", Fn::kKeys, 1, 1},
    {"count", Fn::kCount, 2, 2},
    {"person_search_keys", Fn::kPersonSearchKeys, 2, 2},
    {"person_match", Fn::kPersonMatch, 3, 3},
};

size_t utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

class Args {
 public:
  Args(Evaluator& ev, const Node& n, std::vector<Value>& v) : ev_(ev), n_(n), v_(v) {}
  const Json& operator[](size_t i) const { return v_[i].get(); }
  size_t size() const { return v_.size(); }
  Value take(size_t i) { return std::move(v_[i]); }

  [[noreturn]] void fail(const std::string& msg) const { ev_.fail(n_.offset, n_.name + "(): " + msg); }
  [[noreturn]] void wrongType(size_t i, const char* want) const {
    fail("argument " + std::to_string(i + 1) + " must be " + want + ", got " + typeName((*this)[i]));
  }
  const std::string& str(size_t i) const {
    if (!(*this)[i].is_string()) {
      wrongType(i, "a string");
    }
    return (*this)[i].get_ref<const std::string&>();
  }
  double num(size_t i) const {
    if (!(*this)[i].is_number()) {
      wrongType(i, "a number");
    }
    return (*this)[i].get<double>();
  }
  const Json& list(size_t i) const {
    if (!(*this)[i].is_array()) {
      wrongType(i, "a list");
    }
    return (*this)[i];
  }
  TimePoint time(size_t i) const {
    auto t = parseTime(str(i));
    if (!t) {
      fail("argument " + std::to_string(i + 1) + " is not an ISO-8601 time");
    }
    return *t;
  }
  CivilDay day(size_t i) const {
    TimePoint t = time(i);
    auto ms = t.time_since_epoch().count();
    return static_cast<CivilDay>(std::floor(static_cast<double>(ms) / 86400000.0));
  }
  std::chrono::milliseconds dur(size_t i) const {
    const Json& j = (*this)[i];
    if (j.is_number()) {
      double s = j.get<double>();
      if (!std::isfinite(s) || std::fabs(s) > 1e11) {
        fail("duration out of range");
      }
      return std::chrono::milliseconds(static_cast<long long>(std::llround(s * 1000)));
    }
    if (j.is_string()) {
      std::string_view text = j.get_ref<const std::string&>();
      bool negative = !text.empty() && text[0] == '-';
      auto d = parseDuration(negative ? text.substr(1) : text);
      if (!d) {
        // Messages name arguments, never quote values (status.h): the text may be personal data.
        fail("argument " + std::to_string(i + 1) + " is not a duration such as 30s, 4h, 1h30m or -2d");
      }
      return negative ? -*d : *d;
    }
    wrongType(i, "a duration (string or seconds)");
  }
  // The day argument i falls on in `cal`'s time zone: a YYYY-MM-DD date is that day; a
  // time is the local date there (23:30Z on a June Friday is Saturday in London).
  CivilDay dayIn(size_t i, const Calendar& cal) const {
    if (str(i).size() == 10) return day(i);
    return cal.localDay(time(i));
  }
  // The calendar named by argument i, or the area's default when there is no argument i.
  const Calendar& calendar(size_t i) const {
    std::string name = size() > i ? str(i) : std::string();
    const Calendar* cal = area().calendar(name);
    if (cal == nullptr) fail("no calendar '" + name + "' in area '" + area().name + "'");
    return *cal;
  }
  // The run's area; without one, an empty area with only the built-in calendar.
  const Area& area() const {
    static const Area kNone;
    return ev_.ctx().area != nullptr ? *ev_.ctx().area : kNone;
  }
  Evaluator& ev() { return ev_; }
  const Node& node() const { return n_; }

 private:
  Evaluator& ev_;
  const Node& n_;
  std::vector<Value>& v_;
};

// (name, dob) at arguments i and i + 1 as a person to match; the dob may be null or "".
match::PersonQuery personOf(const Args& a, size_t i) {
  match::PersonQuery q;
  q.name = a.str(i);
  if (!a[i + 1].is_null()) q.dob = a.str(i + 1);
  return q;
}

// What to ask an exact-search system for: surname phonetic keys, forename variants and
// date-of-birth variants (docs/EXPRESSIONS.md, "Person matching").
Json personSearchKeys(const Args& a) {
  match::SearchKeys k = match::searchKeys(personOf(a, 0), match::defaultForenames());
  return {{"surname_keys", k.surnameKeys}, {"forenames", k.forenames}, {"dobs", k.dobs}};
}

// Scores each candidate record against the person: {status, verified, best, candidates:
// [{record, score, exact, reasons}]}. A candidate without a text name is not a match.
Json personMatch(const Args& a) {
  const match::PersonQuery q = personOf(a, 0);
  const Json& list = a.list(2);
  std::vector<match::Candidate> cands;
  std::vector<const Json*> records;
  for (const auto& c : list) {
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
    cands.push_back({c["name"].get<std::string>(), c.contains("dob") && c["dob"].is_string() ? c["dob"].get<std::string>() : ""});
    records.push_back(&c);
  }
  match::MatchResult r = match::matchPerson(q, cands, match::defaultForenames());
  Json out = {{"status", match::statusName(r.status)}, {"truncated", r.truncated}};
  Json scored = Json::array();
  for (const auto& s : r.candidates) {
    scored.push_back({{"record", *records[s.index]}, {"score", std::round(s.score * 1000) / 1000}, {"exact", s.exact}, {"reasons", s.reasons}});
  }
  const bool found = r.status == match::MatchStatus::kFound && !scored.empty();
  out["best"] = found ? scored[0]["record"] : Json();
  // Verified: one record, and it is the person exactly as the referral names them.
  out["verified"] = found && scored[0]["exact"].get<bool>();
  out["candidates"] = std::move(scored);
  return out;
}

std::string dayText(CivilDay d) {
  int y = 0;
  unsigned m = 0, dd = 0;
  ymdFromCivilDay(d, &y, &m, &dd);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, dd);
  return buf;
}

Json minMax(Args& a, bool wantMax) {
  const Json* items = nullptr;
  Json packed;
  if (a.size() == 1) {
    items = &a.list(0);
  } else {
    packed = Json::array();
    for (size_t i = 0; i < a.size(); ++i) {
      packed.push_back(a[i]);
    }
    items = &packed;
  }
  if (items->empty()) {
    a.fail("needs at least one value");
  }
  const Json* best = nullptr;
  for (const auto& e : *items) {
    if (best == nullptr) {
      if (!e.is_number() && !e.is_string()) {
        a.fail(std::string("cannot order ") + typeName(e));
      }
      best = &e;
      continue;
    }
    bool less = false;
    if (e.is_number() && best->is_number()) {
      less = compareNumbers(e, *best) < 0;
    } else if (e.is_string() && best->is_string()) {
      less = e.get_ref<const std::string&>() < best->get_ref<const std::string&>();
    } else {
      a.fail(std::string("cannot compare ") + typeName(e) + " with " + typeName(*best));
    }
    bool greater = !less && !jsonEqual(e, *best);
    if ((wantMax && greater) || (!wantMax && less)) {
      best = &e;
    }
  }
  return *best;
}

}  // namespace

const FnInfo* findFunction(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (name == f.name) {
      return &f;
    }
  }
  return nullptr;
}

std::string renderText(const Json& v) {
  if (v.is_null()) {
    return "";
  }
  if (v.is_string()) {
    return v.get<std::string>();
  }
  // Strings inside lists and objects may hold bytes that are not UTF-8 (a string literal
  // can); dump() would throw on them, so they are replaced rather than failing.
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Value callFunction(Evaluator& ev, const Node& n, std::vector<Value>& vals) {
  Args a(ev, n, vals);
  switch (n.fn) {
    case Fn::kLen: {
      const Json& x = a[0];
      if (x.is_string()) return Value::own(utf8Length(x.get_ref<const std::string&>()));
      if (x.is_array() || x.is_object()) return Value::own(x.size());
      if (x.is_null()) return Value::own(0);
      a.wrongType(0, "a string, list or object");
    }
    case Fn::kLower:
    case Fn::kUpper: {
      std::string s = a.str(0);
      for (char& c : s) {
        c = static_cast<char>(n.fn == Fn::kLower ? std::tolower(static_cast<unsigned char>(c))
                                                 : std::toupper(static_cast<unsigned char>(c)));
      }
      return Value::own(std::move(s));
    }
    case Fn::kTrim: {
      const std::string& s = a.str(0);
      size_t b = s.find_first_not_of(" \t\r\n");
      if (b == std::string::npos) return Value::own("");
      size_t e = s.find_last_not_of(" \t\r\n");
      return Value::own(s.substr(b, e - b + 1));
    }
    case Fn::kContains: {
      if (a[0].is_array()) {
        for (const auto& e : a[0]) {
          if (jsonEqual(e, a[1])) return Value::own(true);
        }
        return Value::own(false);
      }
      if (a[0].is_null()) return Value::own(false);
      if (!a[0].is_string()) a.wrongType(0, "a string or list");
      return Value::own(a.str(0).find(a.str(1)) != std::string::npos);
    }
    case Fn::kStartsWith: return Value::own(a.str(0).rfind(a.str(1), 0) == 0);
    case Fn::kEndsWith: {
      const std::string& s = a.str(0);
      const std::string& suf = a.str(1);
      return Value::own(s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0);
    }
    case Fn::kMatches: {
      const std::string& s = a.str(0);
      if (utf8Length(s) > kMaxRegexSubject) {
        a.fail("text longer than " + std::to_string(kMaxRegexSubject) + " characters");
      }
      Regex re = n.regex;
      if (!re) {
        std::string err;
        re = compileRegex(a.str(1), &err);
        if (!re) a.fail(err.substr(std::string("matches() ").size()));
      }
      return Value::own(regexSearch(*re, s));
    }
    case Fn::kNow: return Value::own(formatTime(ev.ctx().now));
    case Fn::kDuration: {
      auto d = a.dur(0);
      return Value::own(static_cast<double>(d.count()) / 1000.0 == static_cast<double>(d.count() / 1000)
                            ? Json(d.count() / 1000) : Json(static_cast<double>(d.count()) / 1000.0));
    }
    // Arguments are checked in order (statements, not operands of one expression, whose
    // order C++ leaves open), so a call with two bad arguments always reports the first.
    case Fn::kTimeAdd: {
      TimePoint start = a.time(0);
      TimePoint t = start + a.dur(1);
      // Keep results within the years parseTime() reads (0000-9999), so they can be used again.
      static const TimePoint kFirst = *parseTime("0000-01-01");
      static const TimePoint kLast = *parseTime("9999-12-31T23:59:59.999Z");
      if (t < kFirst || t > kLast) a.fail("result outside the years 0000 to 9999");
      return Value::own(formatTime(t));
    }
    case Fn::kTimeDiff: {
      TimePoint from = a.time(0);
      auto ms = (from - a.time(1)).count();
      if (ms % 1000 == 0) return Value::own(ms / 1000);
      return Value::own(static_cast<double>(ms) / 1000.0);
    }
    case Fn::kDate: return Value::own(dayText(a.day(0)));
    case Fn::kDaysBetween: {
      CivilDay from = a.day(0);
      return Value::own(a.day(1) - from);
    }
    case Fn::kWorkingDaysAfter: {
      a.time(0);  // argument errors in order: the date first
      if (!a[1].is_number_integer() && !a[1].is_number_unsigned()) a.wrongType(1, "an integer");
      long long k = a[1].get<long long>();
      if (k < 0 || k > 3660) a.fail("day count must be between 0 and 3660");
      const Calendar& cal = a.calendar(2);
      return Value::own(dayText(cal.workingDaysAfter(a.dayIn(0, cal), k)));
    }
    case Fn::kIsWorkingDay: {
      a.time(0);
      const Calendar& cal = a.calendar(1);
      return Value::own(cal.isWorkingDay(a.dayIn(0, cal)));
    }
    case Fn::kNextOpening: {
      TimePoint t = a.time(0);
      auto open = a.calendar(1).nextOpening(t);
      if (!open) a.fail("the calendar has no working day within ten years");
      return Value::own(formatTime(*open));
    }
    case Fn::kWorkingTimeAdd: {
      TimePoint t = a.time(0);
      auto d = a.dur(1);
      if (d.count() < 0) a.fail("argument 2 must not be negative");
      auto due = a.calendar(2).addWorkingTime(t, d);
      if (!due) a.fail("the calendar has no working hours within ten years");
      return Value::own(formatTime(*due));
    }
    case Fn::kSlaDeadline: {
      const std::string& timescale = a.str(0);
      const std::string& band = a.str(1);
      TimePoint start = a.time(2);
      auto due = a.area().deadline(timescale, band, start);
      if (!due) a.fail(due.status().message());
      return Value::own(formatTime(*due));
    }
    case Fn::kTimescale: {
      auto described = a.area().describe(a.str(0));
      if (!described) a.fail(described.status().message());
      return Value::own(std::move(described).value());
    }
    case Fn::kDefault: return a[0].is_null() ? a.take(1) : a.take(0);
    case Fn::kString: {
      Json s = renderText(a[0]);
      ev.checkSize(s, n.offset);
      return Value::own(std::move(s));
    }
    case Fn::kNumber: {
      if (a[0].is_number()) return a.take(0);
      if (!a[0].is_string()) a.wrongType(0, "a string or number");
      const std::string& s = a.str(0);
      auto parsed = Json::parse(s, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_number()) a.fail("argument 1 is not a number such as '42' or '-2.5'");
      return Value::own(std::move(parsed));
    }
    case Fn::kMin: return Value::own(minMax(a, false));
    case Fn::kMax: return Value::own(minMax(a, true));
    case Fn::kSum: {
      bool allInt = true;
      long long isum = 0;
      double dsum = 0;
      for (const auto& e : a.list(0)) {
        if (!e.is_number()) a.fail(std::string("cannot add ") + typeName(e));
        if (!isInt(e)) allInt = false;
        if (allInt && __builtin_add_overflow(isum, e.get<long long>(), &isum)) a.fail("integer overflow");
        dsum += e.get<double>();
      }
      if (allInt) return Value::own(isum);
      if (!std::isfinite(dsum)) a.fail("number out of range");
      return Value::own(dsum);
    }
    case Fn::kRound: {
      double x = a.num(0);
      long long places = 0;
      if (a.size() == 2) {
        if (!a[1].is_number_integer() && !a[1].is_number_unsigned()) a.wrongType(1, "an integer");
        places = a[1].get<long long>();
        if (places < 0 || places > 12) a.fail("places must be between 0 and 12");
      }
      if (places == 0) {
        double r = std::round(x);
        if (std::fabs(r) < 9.2e18) return Value::own(static_cast<long long>(r));
        return Value::own(r);
      }
      double f = std::pow(10.0, static_cast<double>(places));
      // So large that x * f overflows: x has no digits after the point to round.
      if (!std::isfinite(x * f)) return Value::own(x);
      return Value::own(std::round(x * f) / f);
    }
    case Fn::kAbs: {
      if (isInt(a[0])) {
        long long x = a[0].get<long long>();
        if (x == std::numeric_limits<long long>::min()) a.fail("integer overflow");
        return Value::own(x < 0 ? -x : x);
      }
      return Value::own(std::fabs(a.num(0)));
    }
    case Fn::kJoin: {
      const Json& items = a.list(0);
      const std::string& sep = a.str(1);
      std::string out;
      bool first = true;
      for (const auto& e : items) {
        if (!first) out += sep;
        first = false;
        out += renderText(e);
        if (out.size() > ev.program().limits.maxValueBytes) a.fail("result larger than the limit");
      }
      return Value::own(std::move(out));
    }
    case Fn::kSplit: {
      const std::string& s = a.str(0);
      const std::string& sep = a.str(1);
      if (sep.empty()) a.fail("separator must not be empty");
      Json out = Json::array();
      size_t start = 0;
      while (true) {
        size_t p = s.find(sep, start);
        out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
        if (out.size() > ev.program().limits.maxValueBytes) a.fail("result larger than the limit");
        if (p == std::string::npos) break;
        start = p + sep.size();
      }
      return Value::own(std::move(out));
    }
    case Fn::kKeys: {
      if (!a[0].is_object()) a.wrongType(0, "an object");
      Json out = Json::array();
      for (auto it = a[0].begin(); it != a[0].end(); ++it) out.push_back(it.key());
      return Value::own(std::move(out));
    }
    case Fn::kCount: {
      long long c = 0;
      for (const auto& e : a.list(0)) {
        c += jsonEqual(e, a[1]) ? 1 : 0;
      }
      return Value::own(c);
    }
    case Fn::kPersonSearchKeys: return Value::own(personSearchKeys(a));
    case Fn::kPersonMatch: return Value::own(personMatch(a));
  }
  ev.fail(n.offset, "internal error: unknown function");
}

}  // namespace vigil::expr_detail

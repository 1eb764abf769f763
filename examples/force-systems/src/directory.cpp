// Loading the seed data. The file is ours, but a typo in it should say where it is rather
// than serve a half-read person.
#include "directory.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace vigil::examples {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string format(const std::chrono::year_month_day& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

bool isDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// A system's section: an object, or absent/null when the system does not know the person.
bool section(const Json& p, const char* key, Json* out) {
  if (!p.contains(key) || p[key].is_null()) {
    *out = nullptr;
    return true;
  }
  if (!p[key].is_object()) return false;
  *out = p[key];
  return true;
}

}  // namespace

std::string todayUtc() {
  const auto now = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  return format(std::chrono::year_month_day{now});
}

std::string addDays(const std::string& date, int days) {
  const std::chrono::year_month_day d{std::chrono::year{std::stoi(date.substr(0, 4))},
                                      std::chrono::month{static_cast<unsigned>(std::stoi(date.substr(5, 2)))},
                                      std::chrono::day{static_cast<unsigned>(std::stoi(date.substr(8, 2)))}};
  return format(std::chrono::year_month_day{std::chrono::sys_days{d} + std::chrono::days{days}});
}

bool Directory::load(const std::string& file, const std::string& today, std::string* error) {
  std::ifstream in(file);
  if (!in) {
    *error = file + ": cannot be read";
    return false;
  }
  Json root;
  try {
    root = Json::parse(in);
  } catch (const Json::exception& e) {
    *error = file + ": not JSON: " + e.what();
    return false;
  }
  if (!root.is_object() || !root.contains("people") || !root["people"].is_array()) {
    *error = file + ": needs {\"people\": [...]}";
    return false;
  }
  std::vector<Person> people;
  for (size_t i = 0; i < root["people"].size(); ++i) {
    const Json& p = root["people"][i];
    const std::string where = file + ": people[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string() || !p.contains("dob") || !p["dob"].is_string() ||
        !isDate(p["dob"].get<std::string>())) {
      *error = where + ": needs a name and a dob (YYYY-MM-DD)";
      return false;
    }
    Person person{p["name"].get<std::string>(), p["dob"].get<std::string>(), nullptr, nullptr, nullptr, nullptr};
    if (!section(p, "pnd", &person.pnd) || !section(p, "rms", &person.rms) || !section(p, "csc", &person.csc) ||
        !section(p, "education", &person.education)) {
      *error = where + ": each system's record must be an object or null";
      return false;
    }
    if (person.rms.is_object()) {
      Json incidents = person.rms.value("incidents", Json::array());
      if (!incidents.is_array()) {
        *error = where + ": rms.incidents must be an array";
        return false;
      }
      for (auto& inc : incidents) {
        if (inc.contains("days_ago") && inc["days_ago"].is_number_integer()) {
          inc["date"] = addDays(today, -inc["days_ago"].get<int>());
          inc.erase("days_ago");
        }
        if (!inc.contains("date") || !inc["date"].is_string() || !isDate(inc["date"].get<std::string>())) {
          *error = where + ": each incident needs a date (YYYY-MM-DD) or days_ago";
          return false;
        }
      }
      person.rms["incidents"] = incidents;
    }
    people.push_back(std::move(person));
  }
  people_ = std::move(people);
  return true;
}

namespace {

// American Soundex, as the systems' phonetic index codes a surname.
std::string soundex(const std::string& word) {
  static const char* kCodes = "01230120022455012623010202";  // a..z
  std::string out;
  char last = 0;
  for (char raw : word) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
    if (c < 'a' || c > 'z') continue;
    char code = kCodes[c - 'a'];
    if (out.empty()) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      last = code;
      continue;
    }
    if (c == 'h' || c == 'w') continue;
    if (code != '0' && code != last) out += code;
    last = code;
    if (out.size() == 4) break;
  }
  if (out.empty()) return out;
  out.resize(4, '0');
  return out;
}

std::string lastWord(const std::string& name) {
  auto at = name.find_last_of(' ');
  return at == std::string::npos ? name : name.substr(at + 1);
}

std::string firstWord(const std::string& name) { return name.substr(0, name.find(' ')); }

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

std::vector<const Person*> Directory::search(const std::vector<std::string>& surnameKeys, const std::vector<std::string>& forenames,
                                             const std::vector<std::string>& dobs, size_t max) const {
  std::vector<const Person*> out;
  for (const auto& p : people_) {
    if (out.size() >= max) break;
    if (!has(surnameKeys, soundex(lastWord(p.name)))) continue;
    if (has(dobs, p.dob) || has(forenames, lower(firstWord(p.name)))) out.push_back(&p);
  }
  return out;
}

const Person* Directory::find(const std::string& name, const std::string& dob) const {
  const std::string wanted = lower(name);
  const Person* match = nullptr;
  for (const auto& p : people_) {
    if (lower(p.name) != wanted) continue;
    if (!dob.empty()) {
      if (p.dob == dob) return &p;
      continue;
    }
    if (match != nullptr) return nullptr;  // ambiguous without a date of birth
    match = &p;
  }
  return match;
}

}  // namespace vigil::examples

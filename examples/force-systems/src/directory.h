// The synthetic people the four systems know, read once from people.json.
//
// Each person has a name, a date of birth and, for each system that knows them, that
// system's record (null when the system has never heard of them). Immutable after load,
// so any number of threads may read it at once.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigil::examples {

using Json = nlohmann::json;

struct Person {
  std::string name;
  std::string dob;  // YYYY-MM-DD
  Json pnd;         // {markers, warnings} or null
  Json rms;         // {incidents: [{date, type, summary}]} or null
  Json csc;         // {open_case, case_worker, plan} or null
  Json education;   // {on_roll, school, key_adult_email} or null
};

class Directory {
 public:
  // Reads `file`. An incident may give `days_ago` instead of `date`; it is dated from
  // `today` (YYYY-MM-DD), so "the last year" stays true whenever the demo runs.
  // On failure returns false and sets `error` (which names the file and the person's index,
  // never a name).
  bool load(const std::string& file, const std::string& today, std::string* error);

  // Exact date of birth and case-insensitive exact name. An empty `dob` matches by name only
  // when exactly one person has that name. Null when nobody matches.
  const Person* find(const std::string& name, const std::string& dob) const;

  // A candidate search as police systems offer one: people whose surname (the last word of
  // the name) has one of `surnameKeys` as its Soundex code, and whose date of birth is one
  // of `dobs` or whose forename (the first word) is one of `forenames` (lower case). At
  // most `max` people, in file order.
  std::vector<const Person*> search(const std::vector<std::string>& surnameKeys, const std::vector<std::string>& forenames,
                                    const std::vector<std::string>& dobs, size_t max) const;

  size_t size() const { return people_.size(); }

 private:
  std::vector<Person> people_;
};

// Today's date in UTC, and `date` moved by `days` (negative for the past), as YYYY-MM-DD.
std::string todayUtc();
std::string addDays(const std::string& date, int days);

}  // namespace vigil::examples

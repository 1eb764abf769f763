// Person matching: finding a referral's child in a force system's records although the two
// spell the name or write the date of birth differently ("Charly" for "Charlie", 03/04 for
// 04/03). Force systems search names exactly, so vigil asks them for every plausible variant
// (searchKeys) and then scores what comes back itself (matchPerson).
//
// Pure: no I/O, no clocks, no globals apart from defaultForenames(). Every function here is
// safe to call from any thread at once. A ForenameTable is immutable once parsed; the table
// behind defaultForenames() is parsed on first use (thread-safe static initialisation) and
// never changes after. Nothing here throws; inputs are bounded (names are read up to
// kMaxNameBytes, matchPerson scores at most kMaxCandidates).
//
// Personal data: no function puts a name or a date into a message or reason, because
// reasons end up in run events, logs and the audit trail.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/status.h"

namespace vigil::match {

inline constexpr size_t kMaxNameBytes = 200;    // longer names are read up to this many bytes
inline constexpr size_t kMaxCandidates = 1000;  // matchPerson ignores candidates past this

// Forename variant groups (engine/data/forenames.txt): one group per line, comma-separated
// lower-case ASCII names, `#` starting a comment. Two names are related when one group holds
// both; relation is not transitive, so a short form shared by two groups ("charlie" in
// charles's and in charlotte's) does not make the full forms related.
class ForenameTable {
 public:
  ForenameTable() = default;  // knows no names: only equal forenames are related

  // On success the table. On failure invalidArgument whose message lists every problem
  // (up to 20) as "line L, column C: what is wrong", columns 1-based in bytes: an empty
  // name, a character other than a-z, a name repeated in its group, a group of one name,
  // a text above 1 MiB.
  static Result<ForenameTable> parse(std::string_view text);

  // normalizeName(forename) first, then every other name sharing a group with it, in
  // alphabetical order without repeats. Just the normalized name when the table does not
  // know it; empty when the forename normalizes to nothing.
  std::vector<std::string> variants(std::string_view forename) const;

  // True when a and b normalize to the same non-empty name or one group holds both.
  bool related(std::string_view a, std::string_view b) const;

  // True when some group holds normalizeName(forename).
  bool knows(std::string_view forename) const;

  size_t groupCount() const { return groups_.size(); }

 private:
  const std::vector<size_t>* groupsOf(const std::string& name) const;

  std::vector<std::vector<std::string>> groups_;
  std::map<std::string, std::vector<size_t>, std::less<>> index_;  // name -> ascending group numbers
};

// The text of engine/data/forenames.txt. Defined in a file that the build generates from it
// (engine/src/match/forenames_embedded.cpp.in), so this library does no file I/O.
std::string_view embeddedForenames();

// The table parsed from embeddedForenames(), parsed once on first use. The data is checked
// by a test; were it ever broken this asserts in debug builds and is an empty table otherwise.
const ForenameTable& defaultForenames();

// Lower case; the Latin-1 and Latin Extended-A letters folded to ASCII (é->e, ö->o, ß->ss,
// æ->ae, ł->l), combining accents dropped; apostrophes removed (O'Brien -> obrien);
// hyphens, dots, commas and other punctuation become spaces; other characters (other
// scripts, invalid UTF-8) are dropped; runs of spaces collapse and the ends are trimmed.
// Reads at most kMaxNameBytes of the input.
std::string normalizeName(std::string_view name);

// American Soundex as the US National Archives codes it: the first letter, then three
// digits (B F P V=1, C G J K Q S X Z=2, D T=3, L=4, M N=5, R=6); vowels and Y separate
// letters with the same code, H and W do not, and a first letter's code absorbs a following
// letter with the same code (Pfister P236, Ashcraft A261, Tymczak T522, Robert and Rupert
// R163). Vigil's refinement is only in what is coded: the name is normalized first and every
// non-letter dropped, so Müller, Muller and "Mul-ler" agree, and O'Brien codes as OBrien.
// Prefixes (O', D', Mc, van, de, al...) are handled by searchKeys and the scorer, which also
// code the surname without its prefix (the Archives' advice). "" when there is no letter.
std::string phoneticKey(std::string_view surname);

// For a YYYY-MM-DD date of birth: the day and month swapped, then every date one digit away
// (each digit position left to right, each other digit value in ascending order), keeping
// only real Gregorian dates in the years 1900-2099, without the original and without
// repeats. Empty when dob is not such a date (2015-02-30, 15-3-4, 2015-3-04).
std::vector<std::string> dobVariants(std::string_view dob);

// Jaro-Winkler similarity in [0, 1] on the bytes as given (pass normalizeName output):
// matching window max(len)/2 - 1, prefix scale 0.1 over at most 4 bytes, applied whatever
// the Jaro score. 1 for equal strings (two empty ones included), 0 when only one is empty.
// Reads at most kMaxNameBytes of each.
double jaroWinkler(std::string_view a, std::string_view b);

// Full names are "forename [middle...] surname", or "SURNAME, forename [middle...]". A
// hyphenated last word is a double-barrelled surname; particles before it (van, de, al, o,
// st...) belong to it. dob is YYYY-MM-DD or empty.
struct PersonQuery {
  std::string name;
  std::string dob;
};

struct Candidate {
  std::string name;
  std::string dob;
};

struct Scored {
  size_t index = 0;  // position in matchPerson's candidates; 0 from scoreCandidate
  double score = 0;  // [0, 1]
  bool exact = false;
  std::vector<std::string> reasons;  // short phrases, never a name or a date
};

// How well a candidate fits the query, in [0, 1]. The name part weighs the forename 0.45 and
// the surname 0.55; forenames related through the table count almost fully; two forenames
// that the table knows but does not relate count as different names, which is what keeps
// twins (same surname and date of birth, Jack and Jake) apart. Forename and surname in
// swapped order and a middle name on one side only are allowed. The date then multiplies it:
// equal 1, day and month swapped 0.92, one digit off 0.90, same year and month 0.85,
// anything else 0.5; with no valid date on either side the name alone counts, capped at
// 0.95. exact is set only when the normalized full names are equal and both dates are
// present and equal.
Scored scoreCandidate(const PersonQuery& query, const Candidate& candidate, const ForenameTable& forenames);

enum class MatchStatus { kFound, kNotFound, kAmbiguous };

// "found", "not_found", "ambiguous".
const char* statusName(MatchStatus status);

struct MatchOptions {
  double threshold = 0.80;  // a candidate below this is not a match
  double exact = 0.99;      // a score at or above this counts as sure, like an exact match
  double margin = 0.08;     // how far the best must lead the second when neither is sure
};

struct MatchResult {
  MatchStatus status = MatchStatus::kNotFound;
  std::vector<Scored> candidates;  // those >= threshold, best first, equal scores by index
  bool truncated = false;          // there were more than kMaxCandidates; the rest were not scored
};

// kFound when the best candidate reaches the threshold and either it is sure (exact, or
// scored >= options.exact) while the second is not, or it leads the second by at least
// margin, or no other candidate reaches the threshold. kAmbiguous when two candidates reach
// the threshold and neither rule separates them (two sure candidates are ambiguous: two
// records of one child, or a duplicate, is for a person to decide). kNotFound otherwise.
MatchResult matchPerson(const PersonQuery& query, const std::vector<Candidate>& candidates,
                        const ForenameTable& forenames, const MatchOptions& options = {});

// What to send to a system that only searches exactly. surnameKeys: phoneticKey of the whole
// surname, of each part of a double-barrelled one, of the surname without its prefix, and of
// the word before the surname when there is a middle word (a second surname written without
// a hyphen, "Ana Lopez Garcia"), without repeats. forenames: ForenameTable::variants of the forename. dobs: the date then
// its dobVariants, or empty when the date is absent or not valid. Empty lists for an empty
// name.
struct SearchKeys {
  std::vector<std::string> surnameKeys;
  std::vector<std::string> forenames;
  std::vector<std::string> dobs;
};
SearchKeys searchKeys(const PersonQuery& query, const ForenameTable& forenames);

}  // namespace vigil::match

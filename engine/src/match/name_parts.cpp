// Taking a full name apart (see name_parts.h).
#include <algorithm>
#include <array>

#include "name_parts.h"
#include "person_match.h"

namespace vigil::match::detail {
namespace {

// More words than this are not a name; the rest are ignored (after keeping the last, the surname).
constexpr size_t kMaxWords = 12;

// Not "ben": as a middle name it is far commoner in UK records than as a particle.
constexpr std::array<std::string_view, 21> kParticles = {
    "al", "el", "ap", "bin", "bint", "da", "de", "del", "della", "der", "den",
    "di", "du", "la", "le", "mac", "mc", "o", "st", "van", "von"};

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(sep, start), text.size());
    if (end > start) {
      out.emplace_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

std::string withoutMarks(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (c != '\'' && c != '-') {
      out += c;
    }
  }
  return out;
}

// A word's hyphen-separated pieces without their apostrophes, empty ones dropped.
std::vector<std::string> pieces(std::string_view word) {
  std::vector<std::string> out;
  for (const auto& piece : split(word, '-')) {
    if (std::string p = withoutMarks(piece); !p.empty()) {
      out.push_back(std::move(p));
    }
  }
  return out;
}

void addUnique(std::vector<std::string>& list, std::string value, std::string_view except) {
  if (!value.empty() && value != except && std::find(list.begin(), list.end(), value) == list.end()) {
    list.push_back(std::move(value));
  }
}

}  // namespace

bool isParticle(std::string_view word) {
  return std::find(kParticles.begin(), kParticles.end(), word) != kParticles.end();
}

std::string withoutPrefix(std::string_view word) {
  // O' and D' only with their apostrophe: "olsen" and "dennis" have no prefix.
  if (word.size() > 3 && (word[0] == 'o' || word[0] == 'd') && word[1] == '\'') {
    return withoutMarks(word.substr(2));
  }
  // Mc is never an English word start otherwise; Mac is (Mack, Macey), so it is left alone.
  if (word.size() > 4 && word.substr(0, 2) == "mc") {
    return withoutMarks(word.substr(2));
  }
  return "";
}

NameParts parseName(std::string_view name, int rotation) {
  NameParts parts;
  parts.normalized = normalizeName(name);
  std::string marked = foldName(name, true);

  // "SMITH, John": the words before the comma are the surname, however many.
  std::vector<std::string> words;
  size_t surnameWords = 0;
  std::string_view text = name.substr(0, std::min(name.size(), kMaxNameBytes));
  if (size_t comma = text.find(','); comma != std::string_view::npos) {
    std::vector<std::string> surname = split(foldName(text.substr(0, comma), true), ' ');
    words = split(foldName(text.substr(comma + 1), true), ' ');
    if (!surname.empty() && !words.empty()) {
      surnameWords = surname.size();
      words.insert(words.end(), surname.begin(), surname.end());
      rotation = 0;
    } else {
      words = split(marked, ' ');
    }
  } else {
    words = split(marked, ' ');
  }
  // Words made only of marks ("-", "'") carry no name.
  words.erase(std::remove_if(words.begin(), words.end(), [](const std::string& w) { return withoutMarks(w).empty(); }),
              words.end());
  if (words.size() > kMaxWords) {
    std::string last = words.back();
    words.resize(kMaxWords - 1);
    words.push_back(std::move(last));
  }
  if (rotation == 1 && words.size() >= 2) {
    std::rotate(words.begin(), words.begin() + 1, words.end());
  } else if (rotation == 2 && words.size() >= 2) {
    std::rotate(words.rbegin(), words.rbegin() + 1, words.rend());
  }
  parts.words = words.size();
  if (words.empty()) {
    return parts;
  }

  // The surname is the last word, with the particles before it ("van der Berg", "O Brien"),
  // but never the first word, which is the forename.
  if (surnameWords == 0) {
    surnameWords = 1;
    while (surnameWords + 1 < words.size() && isParticle(withoutMarks(words[words.size() - surnameWords - 1]))) {
      ++surnameWords;
    }
  }
  const size_t firstSurname = words.size() - std::min(surnameWords, words.size());
  for (size_t i = firstSurname; i < words.size(); ++i) {
    parts.surname += withoutMarks(words[i]);
  }
  const std::string& last = words.back();
  if (std::vector<std::string> barrels = pieces(last); barrels.size() > 1) {
    for (auto& barrel : barrels) {
      addUnique(parts.surnameAlts, std::move(barrel), parts.surname);
    }
  }
  if (surnameWords > 1) {
    addUnique(parts.surnameAlts, withoutMarks(last), parts.surname);  // "van der Berg" as "Berg"
  }
  addUnique(parts.surnameAlts, withoutPrefix(words[firstSurname]), parts.surname);
  // Two surnames written without a hyphen ("Lopez Garcia", "Smith Jones") look like a middle
  // name and a surname; the word before the surname may be a surname too.
  if (firstSurname >= 2) {
    std::string before = withoutMarks(words[firstSurname - 1]);
    addUnique(parts.surnameAlts, before + parts.surname, parts.surname);
    addUnique(parts.surnameAlts, std::move(before), parts.surname);
  }

  if (firstSurname == 0) {
    return parts;  // a single word: a surname with no forename
  }
  std::vector<std::string> first = pieces(words[0]);  // not empty: mark-only words are gone
  parts.forename = first[0];
  if (first.size() > 1) {
    parts.forenameAlts.push_back(withoutMarks(words[0]));  // "Mary-Jane" as "Maryjane"
  }
  parts.middles.assign(first.begin() + 1, first.end());
  parts.forenameMiddles = parts.middles.size();
  for (size_t i = 1; i < firstSurname; ++i) {
    for (auto& piece : pieces(words[i])) {
      parts.middles.push_back(std::move(piece));
    }
  }
  return parts;
}

}  // namespace vigil::match::detail

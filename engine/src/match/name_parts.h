// Internal to engine/src/match: a full name taken apart, and the folding it is built on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::match::detail {

// normalizeName's folding. With keepMarks, hyphens stay '-' and apostrophes stay '\'' so
// the name parser can see double barrels and O'/D' prefixes; without, they become a space
// and nothing.
std::string foldName(std::string_view name, bool keepMarks);

struct NameParts {
  std::string forename;                  // "" when the name has a single word
  std::vector<std::string> forenameAlts; // a hyphenated forename joined ("maryjane")
  std::vector<std::string> middles;      // a hyphenated forename's later parts first ("jane")
  size_t forenameMiddles = 0;            // how many of middles those are
  std::string surname;                   // all its words and parts joined ("smithjones", "vanderberg")
  // Each double-barrel part, the surname without its prefix, and the word before the surname
  // (alone and joined to it) when there is a middle word.
  std::vector<std::string> surnameAlts;
  std::string normalized;                // normalizeName of the whole name
  size_t words = 0;
};

// Takes "forename [middle...] surname" or "SURNAME, forename [middle...]" apart.
// rotation 0 reads the words as written; 1 moves the first word to the end ("Smith John
// Paul" read as John Paul Smith), 2 moves the last word to the front. A comma fixes the
// order, so rotations of a name with a comma equal rotation 0.
NameParts parseName(std::string_view name, int rotation = 0);

// The surname without a leading particle or O'/D'/Mc prefix, or "" when it has none. word
// is one surname word as foldName(keepMarks) leaves it.
std::string withoutPrefix(std::string_view word);

// True for the particles that belong to the surname after them (van, de, al, o, st...).
bool isParticle(std::string_view word);

}  // namespace vigil::match::detail

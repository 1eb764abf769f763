// American Soundex (see person_match.h for the coding rules and vigil's refinement).
#include "person_match.h"

namespace vigil::match {
namespace {

// -1 for H and W, which neither code nor separate; 0 for the vowels and Y, which separate.
int soundexCode(char c) {
  switch (c) {
    case 'b': case 'f': case 'p': case 'v':
      return 1;
    case 'c': case 'g': case 'j': case 'k': case 'q': case 's': case 'x': case 'z':
      return 2;
    case 'd': case 't':
      return 3;
    case 'l':
      return 4;
    case 'm': case 'n':
      return 5;
    case 'r':
      return 6;
    case 'h': case 'w':
      return -1;
    default:
      return 0;
  }
}

}  // namespace

std::string phoneticKey(std::string_view surname) {
  std::string letters;
  for (char c : normalizeName(surname)) {
    if (c >= 'a' && c <= 'z') {
      letters += c;
    }
  }
  if (letters.empty()) {
    return "";
  }
  std::string key(1, static_cast<char>(letters[0] - 'a' + 'A'));
  int last = soundexCode(letters[0]);
  for (size_t i = 1; i < letters.size() && key.size() < 4; ++i) {
    int code = soundexCode(letters[i]);
    if (code == -1) {
      continue;  // H and W: "Ashcraft" codes s and c once, as the Archives do
    }
    if (code > 0 && code != last) {
      key += static_cast<char>('0' + code);
    }
    last = code;
  }
  key.resize(4, '0');
  return key;
}

}  // namespace vigil::match

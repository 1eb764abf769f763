#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "../../engine/src/match/person_match.h"

using namespace vigil::match;

namespace {

struct Pair {
  const char* kind;
  const char* queryName;
  const char* queryDob;
  const char* candidateName;
  const char* candidateDob;
  bool match;
};

// Every name and date is invented. `match` is whether the candidate must score at or above
// the default threshold (0.80).
const Pair kPairs[] = {
    // Spelling, diminutives and variants of the forename.
    {"variant spelling", "Charly Smith", "2015-03-14", "Charlie Smith", "2015-03-14", true},
    {"variant spelling", "Jon Brown", "2012-07-01", "John Brown", "2012-07-01", true},
    {"diminutive", "Alex Turner", "2014-11-30", "Alexander Turner", "2014-11-30", true},
    {"diminutive", "Bill Jones", "2010-05-05", "William Jones", "2010-05-05", true},
    {"diminutive", "Liam Walsh", "2011-02-14", "William Walsh", "2011-02-14", true},
    {"diminutive", "Liz Taylor", "2013-08-09", "Elizabeth Taylor", "2013-08-09", true},
    {"diminutive", "Harry Potter", "2012-07-31", "Henry Potter", "2012-07-31", true},
    {"diminutive", "Ollie Brown", "2016-10-02", "Oliver Brown", "2016-10-02", true},
    {"diminutive", "Dan Lewis", "2009-12-12", "Daniel Lewis", "2009-12-12", true},
    {"variant spelling", "Katherine Hughes", "2014-04-22", "Catherine Hughes", "2014-04-22", true},
    {"variant spelling", "Katie Smyth", "2015-06-01", "Kate Smith", "2015-06-01", true},
    {"variant spelling", "Micheal Thompson", "2010-01-17", "Michael Thomson", "2010-01-17", true},
    {"variant spelling", "Khloe Roberts", "2017-03-03", "Chloe Roberts", "2017-03-03", true},
    {"variant spelling", "Jonathon Price", "2008-09-19", "Jonathan Price", "2008-09-19", true},
    {"variant spelling", "Aimee Walsh", "2012-11-11", "Amy Walsh", "2012-11-11", true},
    {"variant spelling", "Sophie Martin", "2015-05-25", "Sofia Martin", "2015-05-25", true},
    {"variant spelling", "Phillip Ward", "2011-06-30", "Philip Ward", "2011-06-30", true},
    {"variant spelling", "Aisha Begum", "2014-01-08", "Ayesha Begum", "2014-01-08", true},
    {"transliteration", "Mohammed Khan", "2013-10-10", "Muhammad Khan", "2013-10-10", true},
    {"transliteration", "Mohammed Ali Hussain", "2012-12-01", "Mohamed Hussain", "2012-12-01", true},
    {"typo not in the table", "Jak Wilson", "2016-02-29", "Jack Wilson", "2016-02-29", true},
    {"typo not in the table", "Jonh Davies", "2011-03-21", "John Davies", "2011-03-21", true},
    {"initial", "J Smith", "2010-04-04", "John Smith", "2010-04-04", true},
    // Accents, apostrophes, case and spacing.
    {"accent", "Zo\u00eb Clarke", "2016-01-20", "Zoe Clarke", "2016-01-20", true},
    {"decomposed accent", "Zoe\u0308 Clarke", "2016-01-20", "Zoe Clarke", "2016-01-20", true},
    {"accent", "Jos\u00e9 Garcia", "2012-08-15", "Jose Garcia", "2012-08-15", true},
    {"accent", "\u0141ukasz Nowak", "2013-09-09", "Lukasz Nowak", "2013-09-09", true},
    {"accent", "Chlo\u00e9 Lef\u00e8vre", "2014-07-14", "Chloe Lefevre", "2014-07-14", true},
    {"accent", "Anna M\u00fcller", "2015-02-02", "Anna Mueller", "2015-02-02", true},
    {"case and spaces", "  CHARLIE   smith ", "2015-03-14", "Charlie Smith", "2015-03-14", true},
    {"apostrophe", "Siobhan O'Brien", "2011-11-01", "Siobhan OBrien", "2011-11-01", true},
    {"apostrophe and variant", "Sean O\u2019Brien", "2010-03-17", "Shaun O Brien", "2010-03-17", true},
    {"prefix", "Priya De Souza", "2013-05-13", "Priya D'Souza", "2013-05-13", true},
    {"particles", "Lotte van der Berg", "2012-06-06", "Lotte Vanderberg", "2012-06-06", true},
    // Hyphens, order, middle names.
    {"double-barrelled", "Amelia Smith-Jones", "2014-09-03", "Amelia Jones", "2014-09-03", true},
    {"double-barrelled", "Amelia Smith-Jones", "2014-09-03", "Amelia Smith Jones", "2014-09-03", true},
    {"double-barrelled", "Amelia Smith-Jones", "2014-09-03", "Amelia Smith", "2014-09-03", true},
    {"double-barrelled", "Catherine Zeta-Jones", "2009-09-25", "Catherine Zeta Jones", "2009-09-25", true},
    {"hyphenated forename", "Mary-Jane Watson", "2011-08-10", "Maryjane Watson", "2011-08-10", true},
    {"hyphenated forename", "Mary-Jane Watson", "2011-08-10", "Mary Watson", "2011-08-10", true},
    {"hyphenated forename", "Ellie-May Cooper", "2015-12-24", "Ellie Cooper", "2015-12-24", true},
    {"swapped order", "Smith John", "2011-09-09", "John Smith", "2011-09-09", true},
    {"surname first", "SMITH John Paul", "2011-09-09", "John Paul Smith", "2011-09-09", true},
    {"surname with comma", "WILLIAMS, Jessica", "2013-04-01", "Jessica Williams", "2013-04-01", true},
    {"missing middle name", "John Paul Smith", "2010-10-01", "John Smith", "2010-10-01", true},
    {"two surnames, no hyphen", "Ana Lopez", "2013-02-17", "Ana Lopez Garcia", "2013-02-17", true},
    // Dates of birth written or typed differently.
    {"day and month swapped", "Ruby Patel", "2015-03-04", "Ruby Patel", "2015-04-03", true},
    {"one digit off (day)", "Noah Evans", "2013-06-18", "Noah Evans", "2013-06-19", true},
    {"one digit off (year)", "Noah Evans", "2013-06-18", "Noah Evans", "2014-06-18", true},
    {"same year and month", "Jack Smith", "2015-03-14", "Jack Smith", "2015-03-28", true},
    {"swapped date and spelling", "Freya Thompson", "2016-05-07", "Freya Thomson", "2016-07-05", true},
    {"near miss: variant, sound, digit", "Charlie Smith", "2015-03-14", "Charly Smyth", "2015-03-15", true},
    {"no date of birth on one side", "Oliver Green", "", "Oliver Green", "2014-02-02", true},
    {"unreadable date counts as none", "Lily Evans", "2012-01-01", "Lily Evans", "2012-02-30", true},
    // Different children who must not match.
    {"same name, born years apart", "Jack Smith", "2015-03-14", "Jack Smith", "2009-08-22", false},
    {"same name, different birthday", "Emily Jones", "2014-02-11", "Emily Jones", "2014-09-27", false},
    {"same name, not a swap", "Sophie Turner", "2014-05-06", "Sophie Turner", "2014-06-07", false},
    {"twins", "Jack Smith", "2015-03-14", "Jake Smith", "2015-03-14", false},
    {"twins", "Olivia Brown", "2016-10-02", "Oliver Brown", "2016-10-02", false},
    {"twins", "Alexander Turner", "2014-11-30", "Alexandra Turner", "2014-11-30", false},
    {"twins", "Charles Green", "2012-03-03", "Charlotte Green", "2012-03-03", false},
    {"twins", "Emma Wilson", "2013-07-07", "Emily Wilson", "2013-07-07", false},
    {"twins", "Kaiden Hall", "2017-01-01", "Jayden Hall", "2017-01-01", false},
    {"twins, names not in the table", "Brayden Hall", "2017-01-01", "Kayden Hall", "2017-01-01", false},
    {"siblings, swapped-looking date", "Jack Smith", "2015-03-04", "Jake Smith", "2015-04-03", false},
    {"similar-sounding names", "Sean Murphy", "2010-03-17", "Shaun Murray", "2010-03-17", false},
    {"different surname", "Jack Smith", "2015-03-14", "Jack Taylor", "2015-03-14", false},
    {"different surname", "Thomas Wright", "2010-10-10", "Thomas White", "2010-10-10", false},
    {"different surname", "Mohammed Ali", "2013-10-10", "Mohammed Ahmed", "2013-10-10", false},
    {"different names, no dates", "Harvey Cole", "", "Harley Cole", "", false},
    {"surname only", "Smith", "2010-04-04", "John Smith", "2010-04-04", false},
    {"sibling, similar name", "Ruby Patel", "2015-03-04", "Rubina Patel", "2011-10-12", false},
};

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

// An independent calendar check for dobVariants: std::chrono's, not the library's.
bool realDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return false;
  }
  int y = std::stoi(s.substr(0, 4));
  unsigned m = static_cast<unsigned>(std::stoi(s.substr(5, 2)));
  unsigned d = static_cast<unsigned>(std::stoi(s.substr(8, 2)));
  return y >= 1900 && y <= 2099 && std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)).ok();
}

}  // namespace

TEST_CASE("the table of pairs: true matches match, different children do not", "[match]") {
  const auto& table = defaultForenames();
  size_t matches = 0;
  for (const Pair& p : kPairs) {
    Scored s = scoreCandidate({p.queryName, p.queryDob}, {p.candidateName, p.candidateDob}, table);
    INFO(p.kind << ": " << p.queryName << " " << p.queryDob << " / " << p.candidateName << " " << p.candidateDob
                << " scored " << s.score);
    CHECK((s.score >= 0.80) == p.match);
    CHECK(s.score >= 0.0);
    CHECK(s.score <= 1.0);
    // Reasons reach logs and the audit trail: no digit, and no word of either name.
    std::vector<std::string> nameWords = words(normalizeName(p.queryName));
    for (const auto& w : words(normalizeName(p.candidateName))) {
      nameWords.push_back(w);
    }
    CHECK_FALSE(s.reasons.empty());
    for (const auto& reason : s.reasons) {
      INFO(reason);
      CHECK(std::none_of(reason.begin(), reason.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
      for (const auto& w : words(reason)) {
        CHECK(std::find(nameWords.begin(), nameWords.end(), w) == nameWords.end());
      }
    }
    matches += p.match ? 1 : 0;
  }
  CHECK(std::size(kPairs) >= 60);
  CHECK(matches >= 30);
  CHECK(std::size(kPairs) - matches >= 15);
}

TEST_CASE("scores explain themselves and exact means exact", "[match]") {
  const auto& table = defaultForenames();
  Scored exact = scoreCandidate({"  CHARLIE smith", "2015-03-14"}, {"Charlie Smith", "2015-03-14"}, table);
  CHECK(exact.exact);
  CHECK(exact.score == Approx(1.0));
  Scored middle = scoreCandidate({"John Paul Smith", "2010-10-01"}, {"John Smith", "2010-10-01"}, table);
  CHECK_FALSE(middle.exact);
  CHECK(middle.score >= 0.99);
  Scored noDob = scoreCandidate({"Oliver Green", ""}, {"Oliver Green", ""}, table);
  CHECK_FALSE(noDob.exact);
  CHECK(noDob.score < 0.99);
  CHECK(noDob.score >= 0.80);
  CHECK(std::find(noDob.reasons.begin(), noDob.reasons.end(), "no date of birth to compare") != noDob.reasons.end());
  auto has = [](const Scored& s, const char* r) { return std::find(s.reasons.begin(), s.reasons.end(), r) != s.reasons.end(); };
  CHECK(has(scoreCandidate({"Charly Smith", "2015-03-14"}, {"Charlie Smith", "2015-03-14"}, table), "forename is a known variant"));
  CHECK(has(scoreCandidate({"Katie Smyth", "2015-06-01"}, {"Kate Smith", "2015-06-01"}, table), "surname sounds alike"));
  CHECK(has(scoreCandidate({"Ruby Patel", "2015-03-04"}, {"Ruby Patel", "2015-04-03"}, table), "date of birth: day and month swapped"));
  CHECK(has(scoreCandidate({"Noah Evans", "2013-06-18"}, {"Noah Evans", "2013-06-19"}, table), "date of birth: one digit differs"));
  CHECK(has(scoreCandidate({"Jack Smith", "2015-03-14"}, {"Jack Smith", "2009-08-22"}, table), "date of birth differs"));
  CHECK(has(scoreCandidate({"Smith John", "2011-09-09"}, {"John Smith", "2011-09-09"}, table), "forename and surname in swapped order"));
  CHECK(has(scoreCandidate({"Jack Smith", "2015-03-14"}, {"Jake Smith", "2015-03-14"}, table), "forenames are different known names"));
  CHECK(scoreCandidate({"", "2015-03-14"}, {"Jack Smith", "2015-03-14"}, table).score == 0.0);
  // Bounded: a 10 kB name is read up to its first 200 bytes and still scores.
  Scored huge = scoreCandidate({std::string(10000, 'a'), "2015-03-14"}, {"Jack Smith", "2015-03-14"}, table);
  CHECK(huge.score < 0.80);
  CHECK(normalizeName(std::string(10000, 'b')).size() == kMaxNameBytes);
}

TEST_CASE("normalizeName folds accents and punctuation", "[match]") {
  CHECK(normalizeName("Zo\u00eb") == "zoe");
  CHECK(normalizeName("Zoe\u0308") == "zoe");
  CHECK(normalizeName("  O'Brien-Smith ") == "obrien smith");
  CHECK(normalizeName("ZO\u00cb  Ann.Smith") == "zoe ann smith");
  CHECK(normalizeName("\u0141ukasz W\u00f3jcik") == "lukasz wojcik");
  CHECK(normalizeName("Stra\u00dfe \u00c6lfric") == "strasse aelfric");
  CHECK(normalizeName("\xff\xfe bad \xc3") == "bad");
  CHECK(normalizeName("") == "");
}

TEST_CASE("jaroWinkler gives the published values", "[match]") {
  CHECK(jaroWinkler("martha", "marhta") == Approx(0.9611).epsilon(0.001));
  CHECK(jaroWinkler("dwayne", "duane") == Approx(0.84).epsilon(0.001));
  CHECK(jaroWinkler("dixon", "dicksonx") == Approx(0.8133).epsilon(0.001));
  CHECK(jaroWinkler("charly", "charly") == 1.0);
  CHECK(jaroWinkler("", "") == 1.0);
  CHECK(jaroWinkler("abc", "") == 0.0);
  CHECK(jaroWinkler("abc", "xyz") == 0.0);
}

TEST_CASE("phoneticKey is American Soundex", "[match]") {
  CHECK(phoneticKey("Robert") == "R163");
  CHECK(phoneticKey("Rupert") == "R163");
  CHECK(phoneticKey("Rubin") == "R150");
  CHECK(phoneticKey("Ashcraft") == "A261");
  CHECK(phoneticKey("Ashcroft") == "A261");
  CHECK(phoneticKey("Tymczak") == "T522");
  CHECK(phoneticKey("Pfister") == "P236");
  CHECK(phoneticKey("Honeyman") == "H555");
  CHECK(phoneticKey("Lee") == "L000");
  CHECK(phoneticKey("O'Brien") == "O165");
  CHECK(phoneticKey("M\u00fcller") == phoneticKey("Muller"));
  CHECK(phoneticKey("") == "");
  CHECK(phoneticKey("123 -") == "");
}

TEST_CASE("dobVariants: swapped first, then every valid date one digit away", "[match]") {
  auto v = dobVariants("2015-03-04");
  REQUIRE_FALSE(v.empty());
  CHECK(v.front() == "2015-04-03");
  CHECK(std::find(v.begin(), v.end(), "2015-03-04") == v.end());
  // Against an independent calendar: exactly the real dates one digit away, in position order.
  std::vector<std::string> expected{"2015-04-03"};
  std::string text = "2015-03-04";
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (char d = '0'; d <= '9' && text[pos] != '-'; ++d) {
      std::string t = text;
      t[pos] = d;
      if (t != text && realDate(t) && t != expected.front()) {
        expected.push_back(t);
      }
    }
  }
  CHECK(v == expected);
  CHECK(dobVariants("2015-03-04") == v);  // deterministic

  auto feb = dobVariants("2015-02-28");
  CHECK(std::find(feb.begin(), feb.end(), "2015-28-02") == feb.end());
  CHECK(std::find(feb.begin(), feb.end(), "2015-02-29") == feb.end());  // 2015 is no leap year
  CHECK(std::find(feb.begin(), feb.end(), "2015-02-20") != feb.end());
  CHECK(std::all_of(feb.begin(), feb.end(), realDate));
  auto leap = dobVariants("2016-02-28");
  CHECK(std::find(leap.begin(), leap.end(), "2016-02-29") != leap.end());
  CHECK(dobVariants("2015-05-05").front() == "2005-05-05");  // no swap when day equals month

  for (const char* bad : {"2015-02-30", "2015-13-01", "2015-3-04", "15-03-04", "", "2015/03/04", "1899-01-01"}) {
    INFO(bad);
    CHECK(dobVariants(bad).empty());
  }
}

TEST_CASE("ForenameTable::parse reports problems with line numbers", "[match]") {
  auto ok = ForenameTable::parse("# comment\n\nann,anne, annie  # trailing comment\r\nbob,robert\n");
  REQUIRE(ok.isOk());
  CHECK(ok->groupCount() == 2);
  CHECK(ok->related("Annie", "ANN"));
  CHECK_FALSE(ok->related("ann", "bob"));

  auto message = [](std::string_view text) { return ForenameTable::parse(text).status().message(); };
  CHECK(message("a,b\n,c\n").find("line 2, column 1: empty name") == 0);
  CHECK(message("a,b,\n").find("line 1, column 5: empty name") == 0);
  CHECK(message("a,b\nAlex,al\n").find("line 2, column 1: a name is lower-case letters a-z only") == 0);
  CHECK(message("a,b,a\n").find("line 1, column 5: name repeated in its group") == 0);
  CHECK(message("# x\nsolo\n").find("line 2: a group needs at least two names") == 0);
  std::string several = message("a,b\nx\nc,d\n,\n");
  CHECK(several.find("line 2:") != std::string::npos);
  CHECK(several.find("line 4, column 1:") != std::string::npos);
  CHECK(message(std::string(2 << 20, 'a')).find("larger than 1 MiB") != std::string::npos);
  CHECK(ForenameTable::parse("").isOk());
}

TEST_CASE("the shipped forename table parses and relates the names it should", "[match]") {
  auto parsed = ForenameTable::parse(embeddedForenames());
  INFO(parsed.status().message());
  REQUIRE(parsed.isOk());
  const auto& t = defaultForenames();
  CHECK(t.groupCount() >= 150);
  CHECK(t.related("Charles", "charlie"));
  CHECK(t.related("charly", "chaz"));
  CHECK(t.related("charlie", "charlotte"));
  CHECK(t.related("lottie", "charlotte"));
  CHECK_FALSE(t.related("charles", "charlotte"));
  CHECK(t.related("william", "liam"));
  CHECK(t.related("bill", "billy"));
  CHECK(t.related("elizabeth", "eliza"));
  CHECK(t.related("betty", "liz"));
  CHECK(t.related("katherine", "cath"));
  CHECK(t.related("catherine", "katie"));
  CHECK(t.related("mohammed", "muhammad"));
  CHECK(t.related("mohamed", "mohammad"));
  CHECK(t.related("alexander", "xander"));
  CHECK_FALSE(t.related("alexander", "alexandra"));
  CHECK_FALSE(t.related("jack", "jake"));
  CHECK_FALSE(t.related("zzq", "zzr"));
  CHECK(t.related("Zzq", "zzq"));
  auto v = t.variants("Charly");
  REQUIRE_FALSE(v.empty());
  CHECK(v.front() == "charly");
  CHECK(std::is_sorted(v.begin() + 1, v.end()));
  CHECK(std::find(v.begin(), v.end(), "charles") != v.end());
  CHECK(std::find(v.begin(), v.end(), "charlotte") != v.end());
  CHECK(t.variants("Xyzzy") == std::vector<std::string>{"xyzzy"});
  CHECK(t.variants("  ").empty());
}

TEST_CASE("matchPerson: found, ambiguous, not found", "[match]") {
  const auto& t = defaultForenames();
  std::vector<Candidate> twins{{"Alexander Turner", "2014-11-30"}, {"Alexandra Turner", "2014-11-30"}, {"Sam Turner", "2010-01-01"}};

  MatchResult one = matchPerson({"Alexander Turner", "2014-11-30"}, twins, t);
  CHECK(one.status == MatchStatus::kFound);
  REQUIRE(one.candidates.size() == 1);
  CHECK(one.candidates[0].index == 0);

  MatchResult both = matchPerson({"Alex Turner", "2014-11-30"}, twins, t);
  CHECK(both.status == MatchStatus::kAmbiguous);
  REQUIRE(both.candidates.size() == 2);
  CHECK(both.candidates[0].index == 0);  // equal scores keep candidate order
  CHECK(both.candidates[1].index == 1);

  MatchResult none = matchPerson({"Jack Smith", "2015-03-14"}, twins, t);
  CHECK(none.status == MatchStatus::kNotFound);
  CHECK(none.candidates.empty());
  CHECK(matchPerson({"Jack Smith", "2015-03-14"}, {}, t).status == MatchStatus::kNotFound);

  // The exact record wins over a close variant; a sure score wins over a less sure one.
  MatchResult exact = matchPerson({"Alex Turner", "2014-11-30"}, {{"Alexander Turner", "2014-11-30"}, {"Alex Turner", "2014-11-30"}}, t);
  CHECK(exact.status == MatchStatus::kFound);
  REQUIRE(exact.candidates.size() == 2);
  CHECK(exact.candidates[0].index == 1);
  CHECK(exact.candidates[0].exact);
  MatchResult sure = matchPerson({"John Paul Smith", "2010-10-01"}, {{"Jon Smith", "2010-10-01"}, {"John Smith", "2010-10-01"}}, t);
  CHECK(sure.status == MatchStatus::kFound);
  CHECK(sure.candidates.at(0).index == 1);

  // Two records of the same name and date, or two names without dates, are for a person to decide.
  CHECK(matchPerson({"Jack Smith", "2015-03-14"}, {{"Jack Smith", "2015-03-14"}, {"Jack Smith", "2015-03-14"}}, t).status ==
        MatchStatus::kAmbiguous);
  CHECK(matchPerson({"Oliver Green", ""}, {{"Oliver Green", "2014-02-02"}, {"Oliver Green", "2016-05-05"}}, t).status ==
        MatchStatus::kAmbiguous);
  // A clear lead is found; options move the threshold.
  MatchResult lead = matchPerson({"Charly Smith", "2015-03-14"}, {{"Charlie Smith", "2015-03-15"}, {"Charlie Smith", "2015-03-14"}}, t);
  CHECK(lead.status == MatchStatus::kFound);
  CHECK(lead.candidates.at(0).index == 1);
  MatchOptions strict;
  strict.threshold = 0.995;
  CHECK(matchPerson({"Charly Smith", "2015-03-14"}, {{"Charlie Smith", "2015-03-14"}}, t, strict).status == MatchStatus::kNotFound);

  std::vector<Candidate> many(kMaxCandidates + 5, Candidate{"Jack Taylor", "2001-01-01"});
  many.back() = {"Jack Smith", "2015-03-14"};
  MatchResult capped = matchPerson({"Jack Smith", "2015-03-14"}, many, t);
  CHECK(capped.truncated);
  CHECK(capped.status == MatchStatus::kNotFound);
  CHECK_FALSE(matchPerson({"Jack Smith", "2015-03-14"}, twins, t).truncated);

  CHECK(std::string(statusName(MatchStatus::kFound)) == "found");
  CHECK(std::string(statusName(MatchStatus::kNotFound)) == "not_found");
  CHECK(std::string(statusName(MatchStatus::kAmbiguous)) == "ambiguous");
}

TEST_CASE("searchKeys: phonetic surnames, forename variants, dates", "[match]") {
  const auto& t = defaultForenames();
  SearchKeys k = searchKeys({"Amelia Smith-Jones", "2015-03-04"}, t);
  CHECK(k.surnameKeys == std::vector<std::string>{"S532", "S530", "J520"});
  REQUIRE_FALSE(k.forenames.empty());
  CHECK(k.forenames.front() == "amelia");
  CHECK(std::find(k.forenames.begin(), k.forenames.end(), "millie") != k.forenames.end());
  REQUIRE(k.dobs.size() == 1 + dobVariants("2015-03-04").size());
  CHECK(k.dobs[0] == "2015-03-04");
  CHECK(k.dobs[1] == "2015-04-03");

  SearchKeys obrien = searchKeys({"Sean O'Brien", ""}, t);
  CHECK(obrien.surnameKeys == std::vector<std::string>{"O165", "B650"});
  CHECK(std::find(obrien.forenames.begin(), obrien.forenames.end(), "shaun") != obrien.forenames.end());
  CHECK(obrien.dobs.empty());

  SearchKeys charly = searchKeys({"Charly Smith", "2015-02-30"}, t);
  CHECK(std::find(charly.forenames.begin(), charly.forenames.end(), "charlie") != charly.forenames.end());
  CHECK(std::find(charly.forenames.begin(), charly.forenames.end(), "charles") != charly.forenames.end());
  CHECK(charly.dobs.empty());  // not a real date

  SearchKeys empty = searchKeys({"", "2015-03-04"}, t);
  CHECK(empty.surnameKeys.empty());
  CHECK(empty.forenames.empty());
  CHECK(empty.dobs.empty());
}

// Scoring candidates against a referral's person, and what to search for (see person_match.h).
#include "person_match.h"

#include <algorithm>
#include <cstddef>

#include "dob.h"
#include "name_parts.h"

namespace vigil::match {
namespace {

using detail::DobAgreement;
using detail::NameParts;

constexpr double kForenameWeight = 0.45;
constexpr double kSurnameWeight = 0.55;  // surnames are longer and more distinctive than forenames
constexpr double kVariantCredit = 0.97;
constexpr double kInitialCredit = 0.85;
// Both forenames are names the table knows and no group joins them: a typo rarely lands on
// another real name, so they are different names. This is what keeps twins apart.
constexpr double kDifferentKnownCap = 0.4;
constexpr double kOneWordCredit = 0.4;    // a one-word name cannot reach the threshold on its surname
constexpr double kSoundsAlikeFloor = 0.9;
constexpr double kPartCredit = 0.95;      // one barrel of a double-barrelled surname, or it without its prefix
constexpr double kSwappedOrder = 0.98;
constexpr double kMiddlesDiffer = 0.93;
constexpr double kNoDobCap = 0.95;        // below MatchOptions::exact: a name alone is never sure
constexpr double kFirstLetterDiffers = 0.6;
constexpr size_t kMaxMiddles = 8;

struct Part {
  double credit = 0;
  const char* reason = nullptr;
};

// One typo in a name leaves Jaro-Winkler at about 0.92 or above; below that the two are
// more likely different names, so the credit falls steeply to 0.4 at 0.80, then halves.
double spellingCredit(double jw) {
  if (jw >= 0.92) {
    return jw;
  }
  if (jw >= 0.80) {
    return 0.4 + (jw - 0.80) * (0.52 / 0.12);
  }
  return jw * 0.5;
}

bool soundAlike(const std::string& a, const std::string& b) {
  std::string ka = phoneticKey(a);
  return !ka.empty() && ka == phoneticKey(b);
}

Part compareSurnameWords(const std::string& a, const std::string& b) {
  if (a == b) {
    return {1.0, "surname agrees"};
  }
  const double jw = jaroWinkler(a, b);
  const double credit = spellingCredit(jw);
  if (soundAlike(a, b)) {
    return {std::max(credit, kSoundsAlikeFloor), "surname sounds alike"};
  }
  return {credit, jw >= 0.92 ? "surname spelt similarly" : "surnames differ"};
}

Part compareSurnames(const NameParts& q, const NameParts& c) {
  if (q.surname.empty() || c.surname.empty()) {
    return {0.0, "no surname to compare"};
  }
  Part best = compareSurnameWords(q.surname, c.surname);
  std::vector<std::string> qForms{q.surname};
  qForms.insert(qForms.end(), q.surnameAlts.begin(), q.surnameAlts.end());
  std::vector<std::string> cForms{c.surname};
  cForms.insert(cForms.end(), c.surnameAlts.begin(), c.surnameAlts.end());
  for (size_t i = 0; i < qForms.size(); ++i) {
    for (size_t j = (i == 0 ? 1 : 0); j < cForms.size(); ++j) {
      Part p = compareSurnameWords(qForms[i], cForms[j]);
      if (p.credit * kPartCredit > best.credit) {
        best = {p.credit * kPartCredit, p.credit == 1.0 ? "part of the surname agrees" : "part of the surname is similar"};
      }
    }
  }
  return best;
}

Part compareForenameWords(const std::string& a, const std::string& b, const ForenameTable& table) {
  if (a.empty() || b.empty()) {
    return {kOneWordCredit, "only one name to compare"};
  }
  if (a == b) {
    return {1.0, "forename agrees"};
  }
  if (a.size() == 1 || b.size() == 1) {
    return a[0] == b[0] ? Part{kInitialCredit, "forename is an initial that agrees"} : Part{0.0, "forenames differ"};
  }
  if (table.related(a, b)) {
    return {kVariantCredit, "forename is a known variant"};
  }
  const double jw = jaroWinkler(a, b);
  const double credit = spellingCredit(jw);
  if (table.knows(a) && table.knows(b)) {
    return {std::min(credit, kDifferentKnownCap), "forenames are different known names"};
  }
  if (soundAlike(a, b)) {
    return {std::max(credit, kSoundsAlikeFloor), "forename sounds alike"};
  }
  if (jw >= 0.92) {
    return {credit, "forename spelt similarly"};
  }
  // Winkler's premise: people get a name's first letter right. Rhyming names (Kaiden and
  // Jayden) otherwise score like a typo.
  return {a[0] == b[0] ? credit : credit * kFirstLetterDiffers, "forenames differ"};
}

struct ForenameMatch {
  Part part{-1.0, nullptr};
  bool queryJoined = false;      // the best agreement used the query's hyphenated forename joined
  bool candidateJoined = false;  // or the candidate's
};

ForenameMatch compareForenames(const NameParts& q, const NameParts& c, const ForenameTable& table) {
  std::vector<std::string> qForms{q.forename};
  qForms.insert(qForms.end(), q.forenameAlts.begin(), q.forenameAlts.end());
  std::vector<std::string> cForms{c.forename};
  cForms.insert(cForms.end(), c.forenameAlts.begin(), c.forenameAlts.end());
  ForenameMatch best;
  for (size_t i = 0; i < qForms.size(); ++i) {
    for (size_t j = 0; j < cForms.size(); ++j) {
      Part p = compareForenameWords(qForms[i], cForms[j], table);
      if (p.credit > best.part.credit) {
        best = {p, i > 0, j > 0};
      }
    }
  }
  return best;
}

bool middleAgrees(const std::string& a, const std::string& b, const ForenameTable& table) {
  if (a.size() == 1 || b.size() == 1) {
    return a[0] == b[0];
  }
  return a == b || table.related(a, b) || jaroWinkler(a, b) >= 0.92;
}

// A hyphenated forename that agreed as a whole ("Mary-Jane" with "Maryjane") has no
// middle name to compare, so its later parts are skipped.
Part compareMiddles(const NameParts& q, const NameParts& c, const ForenameMatch& forenames, const ForenameTable& table) {
  const std::vector<std::string> qm(q.middles.begin() + static_cast<std::ptrdiff_t>(forenames.queryJoined ? q.forenameMiddles : 0),
                                    q.middles.end());
  const std::vector<std::string> cm(c.middles.begin() + static_cast<std::ptrdiff_t>(forenames.candidateJoined ? c.forenameMiddles : 0),
                                    c.middles.end());
  if (qm.empty() && cm.empty()) {
    return {1.0, nullptr};
  }
  if (qm.empty() || cm.empty()) {
    return {1.0, "middle name on one side only"};
  }
  const auto& shorter = qm.size() <= cm.size() ? qm : cm;
  const auto& longer = qm.size() <= cm.size() ? cm : qm;
  for (size_t i = 0; i < shorter.size() && i < kMaxMiddles; ++i) {
    bool found = false;
    for (size_t j = 0; j < longer.size() && j < kMaxMiddles && !found; ++j) {
      found = middleAgrees(shorter[i], longer[j], table);
    }
    if (!found) {
      return {kMiddlesDiffer, "middle names differ"};
    }
  }
  return {1.0, "middle names agree"};
}

struct NameScore {
  double score = -1;
  std::vector<std::string> reasons;
};

NameScore scoreNames(const NameParts& q, const NameParts& c, const ForenameTable& table) {
  ForenameMatch forenames = compareForenames(q, c, table);
  const Part& f = forenames.part;
  const Part s = compareSurnames(q, c);
  const Part m = compareMiddles(q, c, forenames, table);
  NameScore out;
  out.score = (kForenameWeight * f.credit + kSurnameWeight * s.credit) * m.credit;
  for (const Part* p : {&f, &s, &m}) {
    if (p->reason != nullptr) {
      out.reasons.emplace_back(p->reason);
    }
  }
  return out;
}

struct DobFactor {
  double factor;
  const char* reason;
};

DobFactor dobFactor(DobAgreement agreement) {
  switch (agreement) {
    case DobAgreement::kEqual: return {1.0, "date of birth agrees"};
    case DobAgreement::kSwapped: return {0.92, "date of birth: day and month swapped"};
    case DobAgreement::kOneDigit: return {0.90, "date of birth: one digit differs"};
    case DobAgreement::kSameMonth: return {0.85, "date of birth: same year and month"};
    case DobAgreement::kDifferent: return {0.5, "date of birth differs"};
    case DobAgreement::kAbsent: break;
  }
  return {1.0, nullptr};
}

bool isSure(const Scored& s, const MatchOptions& options) { return s.exact || s.score >= options.exact; }

}  // namespace

Scored scoreCandidate(const PersonQuery& query, const Candidate& candidate, const ForenameTable& forenames) {
  Scored out;
  const NameParts c = detail::parseName(candidate.name);
  const NameParts q = detail::parseName(query.name);
  if (q.words == 0 || c.words == 0) {
    out.reasons.emplace_back("no name to compare");
    return out;
  }
  NameScore best = scoreNames(q, c, forenames);
  // Records and referrals put the surname first often enough ("SMITH John Paul") to try
  // the other readings: first word moved to the end, last word moved to the front.
  for (int rotation = 1; rotation <= 2 && q.words >= 2; ++rotation) {
    if (rotation == 2 && q.words == 2) {
      break;  // both rotations of two words are the same swap
    }
    NameScore swapped = scoreNames(detail::parseName(query.name, rotation), c, forenames);
    swapped.score *= kSwappedOrder;
    if (swapped.score > best.score) {
      swapped.reasons.emplace_back("forename and surname in swapped order");
      best = std::move(swapped);
    }
  }
  out.score = best.score;
  out.reasons = std::move(best.reasons);

  const DobAgreement agreement = detail::compareDobs(query.dob, candidate.dob);
  if (agreement == DobAgreement::kAbsent) {
    const bool unreadable = (!query.dob.empty() && !detail::parseDob(query.dob)) ||
                            (!candidate.dob.empty() && !detail::parseDob(candidate.dob));
    out.reasons.emplace_back(unreadable ? "date of birth is not a valid date" : "no date of birth to compare");
    out.score = std::min(out.score, kNoDobCap);
  } else {
    DobFactor d = dobFactor(agreement);
    out.score *= d.factor;
    out.reasons.emplace_back(d.reason);
  }
  out.score = std::clamp(out.score, 0.0, 1.0);
  out.exact = !q.normalized.empty() && q.normalized == c.normalized && agreement == DobAgreement::kEqual;
  return out;
}

MatchResult matchPerson(const PersonQuery& query, const std::vector<Candidate>& candidates,
                        const ForenameTable& forenames, const MatchOptions& options) {
  MatchResult result;
  const size_t n = std::min(candidates.size(), kMaxCandidates);
  result.truncated = candidates.size() > n;
  for (size_t i = 0; i < n; ++i) {
    Scored s = scoreCandidate(query, candidates[i], forenames);
    s.index = i;
    if (s.score >= options.threshold) {
      result.candidates.push_back(std::move(s));
    }
  }
  std::stable_sort(result.candidates.begin(), result.candidates.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  if (result.candidates.empty()) {
    result.status = MatchStatus::kNotFound;
    return result;
  }
  if (result.candidates.size() == 1) {
    result.status = MatchStatus::kFound;
    return result;
  }
  const Scored& best = result.candidates[0];
  const Scored& second = result.candidates[1];
  // The small allowance keeps a lead of exactly `margin` from failing on rounding.
  const bool clearLead = best.score - second.score >= options.margin - 1e-9;
  const bool sureAlone = isSure(best, options) && !isSure(second, options);
  result.status = clearLead || sureAlone ? MatchStatus::kFound : MatchStatus::kAmbiguous;
  return result;
}

const char* statusName(MatchStatus status) {
  switch (status) {
    case MatchStatus::kFound: return "found";
    case MatchStatus::kNotFound: return "not_found";
    case MatchStatus::kAmbiguous: return "ambiguous";
  }
  return "not_found";
}

SearchKeys searchKeys(const PersonQuery& query, const ForenameTable& forenames) {
  SearchKeys keys;
  const NameParts q = detail::parseName(query.name);
  if (q.words == 0) {
    return keys;
  }
  auto addKey = [&](const std::string& form) {
    std::string key = phoneticKey(form);
    if (!key.empty() && std::find(keys.surnameKeys.begin(), keys.surnameKeys.end(), key) == keys.surnameKeys.end()) {
      keys.surnameKeys.push_back(std::move(key));
    }
  };
  addKey(q.surname);
  for (const auto& alt : q.surnameAlts) {
    addKey(alt);
  }
  if (!q.forename.empty()) {
    keys.forenames = forenames.variants(q.forename);
    for (const auto& alt : q.forenameAlts) {
      if (std::find(keys.forenames.begin(), keys.forenames.end(), alt) == keys.forenames.end()) {
        keys.forenames.push_back(alt);
      }
    }
  }
  if (detail::parseDob(query.dob)) {
    keys.dobs.push_back(query.dob);
    std::vector<std::string> variants = dobVariants(query.dob);
    keys.dobs.insert(keys.dobs.end(), variants.begin(), variants.end());
  }
  return keys;
}

}  // namespace vigil::match

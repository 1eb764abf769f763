// The forename variant table (see person_match.h).
#include <algorithm>
#include <cassert>
#include <iterator>

#include "person_match.h"

namespace vigil::match {
namespace {

constexpr size_t kMaxTableBytes = 1 << 20;
constexpr size_t kMaxProblemsListed = 20;

struct Problem {
  size_t line;
  size_t column;  // 0 when the problem is the whole line
  std::string what;
};

std::string describe(const std::vector<Problem>& problems) {
  std::string msg;
  for (size_t i = 0; i < problems.size() && i < kMaxProblemsListed; ++i) {
    if (!msg.empty()) {
      msg += "; ";
    }
    msg += "line " + std::to_string(problems[i].line);
    if (problems[i].column != 0) {
      msg += ", column " + std::to_string(problems[i].column);
    }
    msg += ": " + problems[i].what;
  }
  if (problems.size() > kMaxProblemsListed) {
    msg += "; and " + std::to_string(problems.size() - kMaxProblemsListed) + " more";
  }
  return msg;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

Result<ForenameTable> ForenameTable::parse(std::string_view text) {
  if (text.size() > kMaxTableBytes) {
    return Status::invalidArgument("the forename table is larger than 1 MiB");
  }
  ForenameTable table;
  std::vector<Problem> problems;
  size_t lineNo = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++lineNo;
    line = line.substr(0, std::min(line.find('#'), line.size()));
    if (std::all_of(line.begin(), line.end(), isSpace)) {
      continue;
    }
    std::vector<std::string> group;
    bool lineOk = true;
    for (size_t from = 0; from <= line.size();) {
      size_t to = std::min(line.find(',', from), line.size());
      size_t a = from;
      size_t b = to;
      while (a < b && isSpace(line[a])) {
        ++a;
      }
      while (b > a && isSpace(line[b - 1])) {
        --b;
      }
      std::string_view name = line.substr(a, b - a);
      const size_t column = a + 1;
      if (name.empty()) {
        problems.push_back({lineNo, column, "empty name (two commas together, or a comma at the start or end)"});
        lineOk = false;
      } else if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        problems.push_back({lineNo, column, "a name is lower-case letters a-z only"});
        lineOk = false;
      } else if (std::find(group.begin(), group.end(), name) != group.end()) {
        problems.push_back({lineNo, column, "name repeated in its group"});
        lineOk = false;
      } else {
        group.emplace_back(name);
      }
      from = to + 1;
    }
    if (lineOk && group.size() < 2) {
      problems.push_back({lineNo, 0, "a group needs at least two names"});
      lineOk = false;
    }
    if (lineOk) {
      const size_t id = table.groups_.size();
      for (const auto& name : group) {
        table.index_[name].push_back(id);
      }
      std::sort(group.begin(), group.end());
      table.groups_.push_back(std::move(group));
    }
  }
  if (!problems.empty()) {
    return Status::invalidArgument(describe(problems));
  }
  return table;
}

const std::vector<size_t>* ForenameTable::groupsOf(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &it->second;
}

std::vector<std::string> ForenameTable::variants(std::string_view forename) const {
  std::string name = normalizeName(forename);
  if (name.empty()) {
    return {};
  }
  std::vector<std::string> others;
  if (const auto* groups = groupsOf(name)) {
    for (size_t g : *groups) {
      std::copy_if(groups_[g].begin(), groups_[g].end(), std::back_inserter(others),
                   [&](const std::string& n) { return n != name; });
    }
  }
  std::sort(others.begin(), others.end());
  others.erase(std::unique(others.begin(), others.end()), others.end());
  std::vector<std::string> out{name};
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

bool ForenameTable::related(std::string_view a, std::string_view b) const {
  std::string na = normalizeName(a);
  std::string nb = normalizeName(b);
  if (na.empty() || nb.empty()) {
    return false;
  }
  if (na == nb) {
    return true;
  }
  const auto* ga = groupsOf(na);
  const auto* gb = groupsOf(nb);
  if (ga == nullptr || gb == nullptr) {
    return false;
  }
  std::vector<size_t> shared;
  std::set_intersection(ga->begin(), ga->end(), gb->begin(), gb->end(), std::back_inserter(shared));
  return !shared.empty();
}

bool ForenameTable::knows(std::string_view forename) const { return groupsOf(normalizeName(forename)) != nullptr; }

const ForenameTable& defaultForenames() {
  static const ForenameTable table = [] {
    auto parsed = ForenameTable::parse(embeddedForenames());
    assert(parsed.isOk() && "engine/data/forenames.txt must parse (person_match_test checks it)");
    return parsed.isOk() ? std::move(parsed).value() : ForenameTable();
  }();
  return table;
}

}  // namespace vigil::match

// Hostile YAML must be refused quickly, with a clear error and bounded memory. Peak
// memory is measured in a forked child so earlier tests do not hide growth.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <functional>

#include "vigil/loader.h"

using namespace vigil;

namespace {

// Runs `fn` in a child; returns the growth of the child's peak RSS in KiB, or -1 when the
// child crashed or `fn` returned false.
long peakGrowthKb(const std::function<bool()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    bool ok = fn();
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    long growth = after.ru_maxrss - before.ru_maxrss;
    FILE* f = std::fopen(("/tmp/vigil-rss-" + std::to_string(getpid())).c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "%ld", growth);
      std::fclose(f);
    }
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::string path = "/tmp/vigil-rss-" + std::to_string(pid);
  long growth = -1;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    if (std::fscanf(f, "%ld", &growth) != 1) growth = -1;
    std::fclose(f);
  }
  std::remove(path.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return growth;
}

std::string billionLaughs() {
  std::string doc = "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 0; k < 8; ++k) doc += ", " + prev;
    doc += "]\n";
  }
  return doc;
}

bool refusedAsYaml(const LoadResult& r, const std::string& needle) {
  return !r.ok() && r.diagnostics.size() == 1 && r.diagnostics[0].category == DiagnosticCategory::kYaml &&
         r.diagnostics[0].message.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a billion-laughs alias bomb is refused with bounded memory", "[yaml][hostile]") {
  std::string doc = billionLaughs();
  CHECK(doc.size() < 1024);
  auto r = loadWorkflow(doc, "bomb.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.diagnostics[0].format().find("bomb.yaml:") == 0);
  CHECK(refusedAsYaml(r, "more than 100000 nodes (after expanding aliases)"));
  long growth = peakGrowthKb([&] { return !loadWorkflow(doc, "bomb.yaml").ok(); });
  REQUIRE(growth >= 0);
  CHECK(growth < 64 * 1024);
}

TEST_CASE("10,000-deep nesting is refused without exhausting the stack", "[yaml][hostile]") {
  std::string flow = "steps: " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  auto r = loadWorkflow(flow, "deep.yaml");
  CHECK(refusedAsYaml(r, "nesting deeper than 64 levels"));

  std::string flowMaps;
  for (int i = 0; i < 10000; ++i) flowMaps += "{a: ";
  flowMaps += "1" + std::string(10000, '}') + "\n";
  CHECK(refusedAsYaml(loadWorkflow(flowMaps, "deep.yaml"), "nesting deeper than"));

  std::string block;
  for (int i = 0; i < 10000; ++i) block += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  auto rb = loadWorkflow(block, "deep.yaml");
  REQUIRE_FALSE(rb.ok());
  CHECK(rb.diagnostics[0].category == DiagnosticCategory::kYaml);

  long growth = peakGrowthKb([&] { return !loadWorkflow(flow, "deep.yaml").ok(); });
  REQUIRE(growth >= 0);
  CHECK(growth < 64 * 1024);
}

TEST_CASE("a 100 MB document is refused before parsing", "[yaml][hostile]") {
  std::string big(100u << 20, 'a');
  big.replace(0, 9, "workflow:");
  auto r = loadWorkflow(big, "big.yaml");
  CHECK(refusedAsYaml(r, "bytes, more than the limit of 1048576"));

  std::string path = "/tmp/vigil-big-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path, std::ios::binary);
    out << big;
  }
  big.clear();
  big.shrink_to_fit();
  long growth = peakGrowthKb([&] { return !loadWorkflowFile(path).ok(); });
  auto rf = loadWorkflowFile(path);
  std::remove(path.c_str());
  CHECK(refusedAsYaml(rf, "file is 104857600 bytes, more than the limit of 1048576"));
  REQUIRE(growth >= 0);
  CHECK(growth < 16 * 1024);  // refused from its size, never read
}

TEST_CASE("other hostile or malformed documents are refused with where and what", "[yaml][hostile]") {
  struct Case {
    std::string doc;
    std::string expected;
  };
  const Case cases[] = {
      {"workflow: a\n---\nworkflow: b\n", "x.yaml:2:1: error: more than one YAML document in the file; a workflow file holds exactly one"},
      {"workflow: a\n...\nworkflow: b\n", "x.yaml:3:1: error: more than one YAML document in the file; a workflow file holds exactly one"},
      {"workflow: a\nowner: x\nworkflow: b\n", "x.yaml:3:1: error: duplicate key 'workflow' (first at line 1)"},
      {"workflow: a\nowner: \xff\xfe\n", "x.yaml:2:8: error: document is not valid UTF-8"},
      {"workflow: a\nowner: \xc0\xaf\n", "x.yaml:2:8: error: document is not valid UTF-8"},
      {std::string("workflow: a\nowner: b\0c\n", 22), "x.yaml:2:9: error: NUL byte in document"},
      {"workflow: !!python/object:os.system a\n", "x.yaml:1:11: error: YAML tags such as 'tag:yaml.org,2002:python/object:os.system' are not supported"},
      {"", "x.yaml:1:1: error: document is empty"},
      {"# only a comment\n", "x.yaml:1:1: error: document is empty"},
      {"{a: 1, [b]: 2}\n", "x.yaml:1:8: error: map keys must be plain text"},
  };
  for (const auto& c : cases) {
    INFO(c.expected);
    auto r = loadWorkflow(c.doc, "x.yaml");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].format() == c.expected);
    CHECK(r.diagnostics[0].category == DiagnosticCategory::kYaml);
  }
}

TEST_CASE("documents that trip yaml-cpp's multi-document path are refused quickly", "[yaml][hostile]") {
  // yaml-cpp 0.7's LoadAll grows without bound on ","; the loader never takes that path.
  for (const char* doc : {",", ",,,,", "- ,\n", "[,", "{,}", "? , : ,", "&a *a", "*unknown", "key: &a\n  - *a\n"}) {
    INFO(doc);
    auto r = loadWorkflow(doc, "x.yaml");
    CHECK_FALSE(r.ok());
    CHECK_FALSE(r.diagnostics.empty());
  }
}

// Sensitivity travels with the value: a set: key or a workflow output computed from a
// sensitive value is sensitive too, unless the author declares it not_sensitive.
#include <catch2/catch.hpp>

#include <algorithm>

#include "vigil/loader.h"

using namespace vigil;

namespace {
bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
}  // namespace

TEST_CASE("a value copied or computed from a sensitive one is sensitive, transitively", "[loader][sensitive]") {
  auto r = loadWorkflow(R"yaml(workflow: t
version: 1
owner: o
inputs:
  child: { type: object }
sensitive: [inputs.child.name]
not_sensitive: [steps.copy.output.known]
steps:
  - id: copy
    set:
      who: "${{ inputs.child.name }}"
      upper: "${{ upper(inputs.child.name) }}"
      whole: "${{ inputs.child }}"
      known: "${{ inputs.child.name != null }}"
      age: 7
  - id: again
    set: { line: "child ${{ steps.copy.output.upper }}" }
outputs:
  name: "${{ steps.again.output.line }}"
  age: "${{ steps.copy.output.age }}"
)yaml", "t.yaml");
  REQUIRE(r.ok());
  const auto& s = r.workflow->sensitive;
  CHECK(has(s, "steps.copy.output.who"));
  CHECK(has(s, "steps.copy.output.upper"));
  CHECK(has(s, "steps.copy.output.whole"));     // an object holding the name
  CHECK(has(s, "steps.again.output.line"));     // a copy of a copy
  CHECK(has(s, "outputs.name"));
  CHECK_FALSE(has(s, "steps.copy.output.known"));  // declared to hold no personal data
  CHECK_FALSE(has(s, "steps.copy.output.age"));
  CHECK_FALSE(has(s, "outputs.age"));
}

TEST_CASE("a summary may not read a value copied from a sensitive one", "[loader][sensitive]") {
  auto r = loadWorkflow(R"yaml(workflow: t
version: 1
owner: o
inputs:
  child: { type: object }
sensitive: [inputs.child.name]
steps:
  - id: copy
    set: { who: "${{ inputs.child.name }}" }
  - id: review
    approval:
      assign: x
      summary: "for ${{ steps.copy.output.who }}"
)yaml", "t.yaml");
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].message.find("reads 'steps.copy.output.who', which is sensitive") != std::string::npos);
}

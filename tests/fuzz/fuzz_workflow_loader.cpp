// Fuzzes the whole load path: UTF-8 and document checks, the event-driven YAML reader
// with its limits, structural and semantic validation, expression compilation, hashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vigil/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::LoadLimits limits;
  limits.maxNodes = 20000;  // keeps each input fast; the limit logic is the same
  auto r = vigil::loadWorkflow(text, "fuzz.yaml", limits);
  const auto& wf = r.ok() ? r.workflow : r.partial;
  if (wf) {
    (void)vigil::checkWorkflowSet({wf});
  }
  for (const auto& d : r.diagnostics) {
    (void)d.format();
  }
  return 0;
}

// Native plugins through the versioned C ABI: the example plugin (C, built by CMake) loads
// and answers; a plugin built for another ABI version, one missing a symbol and a file
// that is not a library are refused at load with a message naming them, not a crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "vigil/native_plugin.h"

using namespace vigil;

TEST_CASE("the example native plugin loads, declares its actions and answers", "[native]") {
  ConnectorRegistry registry;
  REQUIRE(registerNativePlugin(registry, EXAMPLE_PLUGIN).isOk());
  auto plugin = registry.find("school_lookup");
  REQUIRE(plugin != nullptr);
  auto actions = plugin->actions();
  REQUIRE(actions.size() == 2);
  CHECK(actions[0].name == "find");
  CHECK(actions[0].params.size() == 1);
  CHECK(actions[0].params[0].required);
  ConnectorCall call;
  call.action = "find";
  call.input = {{"pupil", "Synthetic Pupil"}};
  call.idempotencyKey = "r-1/school/1";
  CallOutcome ok = plugin->call(call);
  REQUIRE(ok.ok);
  CHECK(ok.output["school"] == "Synthetic Primary School");
  call.action = "fail";
  CallOutcome failed = plugin->call(call);
  CHECK_FALSE(failed.ok);
  CHECK(failed.code == "school_system_down");
  CHECK(failed.retryable);
}

TEST_CASE("plugins that do not fit the ABI are refused with a clear error", "[native]") {
  ConnectorRegistry registry;
  Status abi = registerNativePlugin(registry, ABI99_PLUGIN);
  CHECK(abi.message().find("was built for plugin ABI version 99; this vigil speaks version 1") != std::string::npos);
  Status missing = registerNativePlugin(registry, MISSING_FREE_PLUGIN);
  CHECK(missing.message().find("does not export vigil_plugin_free") != std::string::npos);
  const auto junk = std::filesystem::temp_directory_path() / ("vigil-not-a-plugin-" + std::to_string(::getpid()) + ".so");
  std::ofstream(junk) << "not an ELF file";
  Status notLib = registerNativePlugin(registry, junk.string());
  std::filesystem::remove(junk);
  CHECK(notLib.message().find("cannot be loaded") != std::string::npos);
  CHECK(registry.names().empty());
}

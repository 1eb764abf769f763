// The area copies a data directory keeps (DATA/areas/HASH.yaml): a copy that does not hash
// to its name, or that is empty, is refused by keptArea, never used for a run's deadlines.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../../daemon/src/area_file.h"

using namespace vigil;
namespace fs = std::filesystem;

TEST_CASE("a kept area copy that does not hash to its name is refused", "[area][corrupt]") {
  const fs::path dir = fs::temp_directory_path() / "vigil-kept-area-test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string source = std::string(VIGIL_SOURCE_DIR) + "/examples/areas/northshire.yaml";
  auto area = daemon::loadAreaFile(source);
  REQUIRE(area.isOk());
  const std::string data = (dir / "data").string();
  REQUIRE(daemon::keepAreaFile(source, **area, data).isOk());
  const std::string hash = (*area)->hash;
  const fs::path kept = fs::path(data) / "areas" / (hash + ".yaml");
  REQUIRE(daemon::keptArea(data, hash).isOk());

  std::ofstream(kept, std::ios::app) << "# edited after the run started\n";
  auto edited = daemon::keptArea(data, hash);
  REQUIRE_FALSE(edited.isOk());
  CHECK_THAT(edited.status().message(), Catch::Contains(kept.string()) && Catch::Contains("does not hash"));

  std::ofstream(kept, std::ios::trunc).flush();
  REQUIRE(fs::file_size(kept) == 0);
  auto emptied = daemon::keptArea(data, hash);
  REQUIRE_FALSE(emptied.isOk());
  CHECK_THAT(emptied.status().message(), Catch::Contains(kept.string()));
  CHECK(fs::file_size(kept) == 0);  // refused, not rewritten

  fs::remove(kept);
  auto gone = daemon::keptArea(data, hash);
  REQUIRE_FALSE(gone.isOk());
  CHECK(gone.status().code() == Status::Code::kNotFound);
  fs::remove_all(dir);
}

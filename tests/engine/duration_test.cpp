#include <catch2/catch.hpp>

#include "vigil/duration.h"

using namespace std::chrono_literals;
using vigil::formatDuration;
using vigil::parseDuration;

TEST_CASE("durations parse in descending unit order", "[duration]") {
  CHECK(parseDuration("30s") == std::chrono::milliseconds(30s));
  CHECK(parseDuration("1h30m") == std::chrono::milliseconds(90min));
  CHECK(parseDuration("500ms") == 500ms);
  CHECK(parseDuration("1s500ms") == 1500ms);
  CHECK(parseDuration("2d") == std::chrono::milliseconds(48h));
  CHECK(parseDuration("1w") == std::chrono::milliseconds(168h));
  CHECK(parseDuration("0s") == 0ms);
  CHECK(parseDuration("366d") == std::chrono::milliseconds(366 * 24h));
}

TEST_CASE("bad durations are refused", "[duration]") {
  for (const char* bad : {"", "5", "5x", "s", "-3s", "1m1h", "1h1h", "1.5h", "367d", " 1h", "1h ", "99999999999999999999s",
                          "1H", "ms", "10mss"}) {
    INFO(bad);
    CHECK_FALSE(parseDuration(bad).has_value());
  }
}

TEST_CASE("durations format back to what parses", "[duration]") {
  for (auto d : {0ms, 1ms, 1500ms, std::chrono::milliseconds(90min), std::chrono::milliseconds(49h)}) {
    auto text = formatDuration(d);
    INFO(text);
    CHECK(parseDuration(text) == d);
  }
  CHECK(formatDuration(std::chrono::milliseconds(90min)) == "1h30m");
}

// Area files: calendars and decision timescales as data. Checks the shipped examples give
// the deadlines a MASH expects (RED round the clock, AMBER/GREEN paused outside office
// hours, bank holidays, daylight saving, the statutory one-working-day ceiling) and that a
// bad file is refused with its line, column and what is wrong.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../../daemon/src/area_file.h"
#include "../engine/engine_fixture.h"
#include "vigil/expr.h"
#include "vigil/replay.h"

using namespace vigil;

namespace {

std::shared_ptr<const Area> shipped(const char* name) {
  auto a = daemon::loadAreaFile(std::string(VIGIL_SOURCE_DIR) + "/examples/areas/" + name + ".yaml");
  INFO((a ? std::string() : a.status().message()));
  REQUIRE(a.isOk());
  return *a;
}

std::string due(const Area& area, const char* band, const char* start) {
  auto d = area.deadline("mash-decision", band, *parseTime(start));
  INFO((d ? std::string() : d.status().message()));
  REQUIRE(d.isOk());
  return formatTime(*d);
}

std::string refused(const std::string& yaml) {
  auto path = std::filesystem::temp_directory_path() / "vigil-area-test.yaml";
  std::ofstream(path) << yaml;
  auto a = daemon::loadAreaFile(path.string());
  std::filesystem::remove(path);
  REQUIRE_FALSE(a.isOk());
  return a.status().message().substr(path.string().size());
}

}  // namespace

TEST_CASE("Northshire: RED runs round the clock, AMBER and GREEN pause outside office hours", "[area]") {
  auto north = shipped("northshire");
  // RED at 22:00 on a Friday: two hours later, at midnight, office closed or not.
  CHECK(due(*north, "RED", "2026-11-27T22:00:00Z") == "2026-11-28T00:00:00Z");
  // AMBER at 15:00 on a Friday: two office hours on Friday, four on Monday.
  CHECK(due(*north, "AMBER", "2026-11-27T15:00:00Z") == "2026-11-30T13:00:00Z");
  // AMBER at 16:00 on Christmas Eve: one hour, then Christmas Day, the weekend and the
  // substitute Boxing Day are skipped; five hours on Tuesday 29th.
  CHECK(due(*north, "AMBER", "2026-12-24T16:00:00Z") == "2026-12-29T14:00:00Z");
  // British Summer Time: office hours are 08:00-16:00 UTC.
  CHECK(due(*north, "AMBER", "2026-07-03T15:00:00Z") == "2026-07-06T13:00:00Z");
  // GREEN: 24 office hours would be three days; the statutory ceiling is one working day.
  CHECK(due(*north, "GREEN", "2026-11-25T10:00:00Z") == "2026-11-26T10:00:00Z");
  // Arriving on a Saturday, the working day counts from Monday's opening.
  CHECK(due(*north, "GREEN", "2026-11-28T12:00:00Z") == "2026-12-01T09:00:00Z");
  // Unknown bands and timescales are errors naming them.
  auto none = north->deadline("mash-decision", "PURPLE", *parseTime("2026-11-25T10:00:00Z"));
  CHECK(none.status().message() == "timescale 'mash-decision' has no target for band 'PURPLE'");
  CHECK(north->deadline("encompass", "RED", {}).status().message() == "no timescale 'encompass' in area 'northshire'");
}

TEST_CASE("Southshire: 4/24/72 working hours with 08:00-16:00 office hours", "[area]") {
  auto south = shipped("southshire");
  CHECK(due(*south, "RED", "2026-11-27T22:00:00Z") == "2026-11-28T02:00:00Z");
  // 24 working hours from Friday 09:00: Friday 7h, Monday 8h, Tuesday 8h, Wednesday 1h.
  CHECK(due(*south, "AMBER", "2026-11-27T09:00:00Z") == "2026-12-02T09:00:00Z");
  // 72 working hours is nine office days; no statutory ceiling configured here.
  CHECK(due(*south, "GREEN", "2026-11-02T08:00:00Z") == "2026-11-12T16:00:00Z");
}

TEST_CASE("school calendars: the next school day starts after half term and bank holidays", "[area]") {
  auto north = shipped("northshire");
  const Calendar* schools = north->calendar("schools");
  REQUIRE(schools != nullptr);
  auto next = [&](const char* t) { return formatTime(*schools->nextOpening(*parseTime(t))); };
  // 23:40 UTC on Friday 23 October 2026 is 00:40 BST on Saturday; half term follows.
  CHECK(next("2026-10-23T23:40:00Z") == "2026-11-02T08:30:00Z");
  CHECK(next("2026-11-10T07:00:00Z") == "2026-11-10T08:30:00Z");  // before school: the same morning
  CHECK(next("2026-11-10T10:00:00Z") == "2026-11-11T08:30:00Z");  // during school: the next morning
  CHECK(next("2026-05-22T18:00:00Z") == "2026-06-01T07:30:00Z");  // bank holiday + half term, BST
  // The office calendar is not the school calendar: half term is a working day there.
  CHECK(formatTime(*north->calendar("mash")->nextOpening(*parseTime("2026-10-23T23:40:00Z"))) == "2026-10-26T09:00:00Z");
  CHECK(north->calendar("nowhere") == nullptr);
}

TEST_CASE("expressions reach the area: sla_deadline, timescale, next_opening, working_time_add", "[area][expr]") {
  auto north = shipped("northshire");
  JsonBindings b(Json::object());
  EvalContext ctx;
  ctx.bindings = &b;
  ctx.area = north.get();
  auto eval = [&](const char* text) {
    auto e = std::get<Expression>(Expression::parse(text));
    auto v = e.evaluate(ctx);
    return v ? *v : Json(v.status().message());
  };
  CHECK(eval("sla_deadline('mash-decision', 'AMBER', '2026-11-27T15:00:00Z')") == "2026-11-30T13:00:00Z");
  CHECK(eval("timescale('mash-decision').repeat_referrals.count") == 3);
  CHECK(eval("timescale('mash-decision').repeat_referrals.seconds") == 90 * 86400);
  CHECK(eval("timescale('mash-decision').targets.RED.clock") == "continuous");
  CHECK(eval("next_opening('2026-10-23T23:40:00Z', 'schools')") == "2026-11-02T08:30:00Z");
  CHECK(eval("working_time_add('2026-11-27T16:00:00Z', '2h')") == "2026-11-30T10:00:00Z");
  CHECK(eval("working_days_after('2026-10-23', 1, 'schools')") == "2026-11-02");
  CHECK(eval("is_working_day('2026-10-27', 'schools') == false && is_working_day('2026-10-27')") == true);
  // A time counts on the calendar's local date: 23:30 UTC on Friday 5 June is Saturday in London.
  CHECK(eval("is_working_day('2026-06-05T23:30:00Z')") == false);
  CHECK(eval("is_working_day('2026-06-05T22:30:00Z')") == true);
  CHECK(eval("working_days_after('2026-06-05T23:30:00Z', 1)") == "2026-06-08");  // Saturday -> Monday
  CHECK(eval("sla_deadline('mash-decision', 'BLUE', '2026-11-27T15:00:00Z')").get<std::string>().find(
            "has no target for band 'BLUE'") != std::string::npos);
  CHECK(eval("next_opening('2026-10-23T23:40:00Z', 'nowhere')").get<std::string>().find("no calendar 'nowhere'") !=
        std::string::npos);
}

TEST_CASE("a bad area file is refused with where and what", "[area]") {
  CHECK(refused("calendars: {}\n") == ":1:1: error: an area file starts with 'area: NAME'");
  CHECK(refused("area: x\ncalendars:\n  a: { hours: '17:00-09:00' }\n") == ":3:15: error: 'hours' must end after they start");
  CHECK(refused("area: x\ncalendars:\n  a: { timezone: Mars/Olympus }\n") == ":3:18: error: unknown time zone 'Mars/Olympus'");
  CHECK(refused("area: x\ncalendars:\n  a: { holidays: [2026-02-30] }\n") == ":3:19: error: 'holidays' must be a YYYY-MM-DD date");
  CHECK(refused("area: x\ncalendars:\n  a: { working_days: [funday] }\n") ==
        ":3:23: error: 'funday' is not a day (sun, mon, tue, wed, thu, fri, sat)");
  CHECK(refused("area: x\ntimescales:\n  t: { targets: { RED: { within: soon } } }\n") ==
        ":3:34: error: 'within' must be a positive duration such as 2h, 90m or 90d");
  CHECK(refused("area: x\ntimescales:\n  t: { targets: { RED: { within: 2h, clock: wall } } }\n") ==
        ":3:45: error: 'clock' must be 'continuous' (runs out of hours) or 'working' (pauses)");
  CHECK(refused("area: x\ntimescales:\n  t: { calendar: office, targets: { RED: { within: 2h } } }\n") ==
        ":3:18: error: no calendar 'office' in this file");
  CHECK(refused("area: x\nlocale: en\n") ==
        ":2:1: error: unknown key 'locale' in an area file (known: area, calendars, default_calendar, description, timescales)");
  CHECK(refused("area: x\ncalendars: { a: {}, b: {} }\n") == ":1:1: error: name the 'default_calendar' (this file has more than one)");
}

TEST_CASE("an area file with five mistakes reports all five with their lines and columns", "[area]") {
  // The calendar has problems of its own, so the timescale naming it is not also refused
  // for naming no calendar: each mistake is reported once, in file order.
  auto path = std::filesystem::temp_directory_path() / "vigil-area-many.yaml";
  std::ofstream(path) << "area: x\n"
                         "locale: en\n"
                         "calendars:\n"
                         "  office: { timezone: Mars/Olympus, hours: '17:00-09:00' }\n"
                         "timescales:\n"
                         "  t: { calendar: office, targets: { RED: { within: soon } } }\n"
                         "  u: { targets: { RED: { within: 2h } }, max_working_days: 0 }\n";
  auto a = daemon::loadAreaFile(path.string());
  std::filesystem::remove(path);
  REQUIRE_FALSE(a.isOk());
  const std::string p = path.string();
  CHECK(a.status().message() ==
        p + ":2:1: error: unknown key 'locale' in an area file (known: area, calendars, default_calendar, description, timescales)\n" +
        p + ":4:23: error: unknown time zone 'Mars/Olympus'\n" +
        p + ":4:44: error: 'hours' must end after they start\n" +
        p + ":6:52: error: 'within' must be a positive duration such as 2h, 90m or 90d\n" +
        p + ":7:60: error: 'max_working_days' must be between 1 and 365");
}

TEST_CASE("an area file with a key written twice is refused at the second", "[area][yaml]") {
  // yaml-cpp alone keeps one of the two without a word: here a calendar's hours, or a
  // whole second set of calendars.
  CHECK(refused("area: x\ncalendars:\n  office:\n    hours: '09:00-17:00'\n    hours: '08:00-16:00'\n") ==
        ":5:5: error: duplicate key 'hours' (first at line 4)");
  CHECK(refused("area: x\ncalendars: { a: {} }\ndescription: Zoë's area\ncalendars: { b: {} }\n") ==
        ":4:1: error: duplicate key 'calendars' (first at line 2)");
  CHECK(refused("area: x\ncalendars: { a: !office {} }\n") == ":2:17: error: YAML tags such as '!office' are not supported");
}

TEST_CASE("a run keeps the area it started under when the file changes before it finishes", "[area][engine]") {
  auto north = shipped("northshire");
  auto south = shipped("southshire");
  const std::string yaml =
      "workflow: pinned\nversion: 1\nowner: o\nsteps:\n"
      "  - { id: first, set: { due: \"${{ sla_deadline('mash-decision', 'AMBER', '2026-11-27T09:00:00Z') }}\" } }\n"
      "  - { id: later, wait: 1h }\n"
      "  - { id: second, set: { due: \"${{ sla_deadline('mash-decision', 'AMBER', '2026-11-27T09:00:00Z') }}\" } }\n";
  testing::DataDir dir;
  auto clock = std::make_shared<ManualClock>(*parseTime("2026-11-27T09:00:00Z"));
  auto open = [&](std::shared_ptr<const Area> area) {
    EngineOptions o;
    o.store = std::shared_ptr<Store>(openSqliteStore(dir.path.string()).value());
    o.clock = clock;
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.area = std::move(area);
    o.areaByHash = [&](const std::string& hash) -> Result<std::shared_ptr<const Area>> {
      if (hash == north->hash) return north;
      return Status::notFound("unknown area");
    };
    o.timerThread = false;
    auto e = Engine::create(o);
    REQUIRE(e.isOk());
    auto wf = loadWorkflow(yaml, "pinned.yaml");
    REQUIRE(wf.ok());
    REQUIRE((*e)->publish(wf.workflow, yaml).isOk());
    REQUIRE((*e)->start().isOk());
    return std::move(e).value();
  };
  std::string id;
  {
    auto engine = open(north);
    id = engine->startRun("pinned", Json::object(), "officer-1").value();
    REQUIRE(engine->waitIdle(std::chrono::seconds(10)));
    engine->stop();
  }
  // The area file changes (Southshire's 24 working hours instead of Northshire's 6).
  auto engine = open(south);
  clock->advance(std::chrono::hours(1));
  REQUIRE(engine->fireDueTimers().isOk());
  REQUIRE(engine->waitIdle(std::chrono::seconds(10)));
  RunState st = **engine->run(id);
  CHECK(st.status == RunStatus::kCompleted);
  CHECK(st.step("first")->output["due"] == "2026-11-27T15:00:00Z");
  CHECK(st.step("second")->output["due"] == "2026-11-27T15:00:00Z");  // still Northshire's
  auto events = std::shared_ptr<Store>(openSqliteStore(dir.path.string()).value())->runs().events(id);
  REQUIRE(events.isOk());
  CHECK(replayRun(id, *events, loadWorkflow(yaml, "pinned.yaml").workflow, north).identical);
  // A new run uses the new file.
  auto fresh = engine->startRun("pinned", Json::object(), "officer-1").value();
  REQUIRE(engine->waitIdle(std::chrono::seconds(10)));
  CHECK((**engine->run(fresh)).step("first")->output["due"] == "2026-12-02T09:00:00Z");  // Southshire: 24 working hours
  engine->stop();
}

TEST_CASE("a run started with no area keeps having none after an area is configured", "[area][engine]") {
  auto north = shipped("northshire");
  const std::string yaml =
      "workflow: plain\nversion: 1\nowner: o\nsteps:\n"
      "  - { id: later, wait: 1h }\n"
      "  - { id: next, set: { day: \"${{ working_days_after('2026-12-24', 1) }}\" } }\n";
  testing::DataDir dir;
  auto clock = std::make_shared<ManualClock>(*parseTime("2026-12-24T09:00:00Z"));
  auto open = [&](std::shared_ptr<const Area> area) {
    EngineOptions o;
    o.store = std::shared_ptr<Store>(openSqliteStore(dir.path.string()).value());
    o.clock = clock;
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.area = std::move(area);
    o.timerThread = false;
    auto e = Engine::create(o);
    REQUIRE(e.isOk());
    auto wf = loadWorkflow(yaml, "plain.yaml");
    REQUIRE(wf.ok());
    REQUIRE((*e)->publish(wf.workflow, yaml).isOk());
    REQUIRE((*e)->start().isOk());
    return std::move(e).value();
  };
  std::string id;
  {
    auto engine = open(nullptr);
    id = engine->startRun("plain", Json::object(), "officer-1").value();
    REQUIRE(engine->waitIdle(std::chrono::seconds(10)));
    engine->stop();
  }
  auto engine = open(north);  // Northshire: 25 and 28 December are holidays
  clock->advance(std::chrono::hours(1));
  REQUIRE(engine->fireDueTimers().isOk());
  REQUIRE(engine->waitIdle(std::chrono::seconds(10)));
  CHECK((**engine->run(id)).step("next")->output["day"] == "2026-12-25");  // the built-in calendar, as it started
  engine->stop();
}

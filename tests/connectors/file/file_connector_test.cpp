// The file connector on real temp directories: round trips, confinement to the folder,
// atomic writes and content errors.
#include "vigil/file_connector.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using vigil::CallOutcome;
using vigil::Json;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/vigil-file-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

void put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
std::string get(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A data folder (writable), a read-only folder, and a secret file outside both.
struct Harness {
  explicit Harness(size_t maxBytes = 1024 * 1024) {
    fs::create_directories(dir.path + "/data/sub");
    fs::create_directories(dir.path + "/ro");
    fs::create_directories(dir.path + "/outside");
    put(dir.path + "/outside/secret.json", "{\"secret\": \"OUTSIDEVALUE\"}");
    vigil::FileConnectorOptions o;
    o.folders = {{"data", dir.path + "/data", true}, {"ro", dir.path + "/ro", false}};
    o.maxBytes = maxBytes;
    auto s = vigil::registerFileConnector(registry, o);
    INFO(s.message());
    REQUIRE(s.isOk());
  }
  CallOutcome call(const std::string& action, Json input) {
    vigil::ConnectorCall c;
    c.action = action;
    c.input = std::move(input);
    CallOutcome o = registry.find("file")->call(c);
    if (!o.ok) {
      // Messages name the folder, never the path or the content.
      CHECK(o.message.find("PATHMARKER") == std::string::npos);
      CHECK(o.message.find("OUTSIDEVALUE") == std::string::npos);
      CHECK(o.message.find("passwd") == std::string::npos);
    }
    return o;
  }
  std::string data() const { return dir.path + "/data"; }
  TempDir dir;
  vigil::ConnectorRegistry registry;
};

void expectFailure(const CallOutcome& o, const std::string& code) {
  INFO(o.code << ": " << o.message);
  CHECK_FALSE(o.ok);
  CHECK(o.code == code);
  CHECK_FALSE(o.retryable);
}

std::vector<std::string> tempFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find("vigil-tmp") != std::string::npos) out.push_back(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("file: JSON round trip, UTF-8 and nested data", "[file]") {
  Harness h;
  Json data = {{"name", "Zoë \"Ω\" ✓"}, {"list", {1, 2.5, nullptr, true}}, {"nested", {{"a", "b,c\nd"}}}};
  auto w = h.call("write_json", {{"folder", "data"}, {"path", "sub/out.json"}, {"data", data}});
  INFO(w.message);
  REQUIRE(w.ok);
  CHECK(w.output["path"] == "sub/out.json");
  CHECK(w.output["bytes"] == get(h.data() + "/sub/out.json").size());
  auto r = h.call("read_json", {{"folder", "data"}, {"path", "sub/out.json"}});
  REQUIRE(r.ok);
  CHECK(r.output["data"] == data);
  // Overwrite replaces the file whole; no temp file is left behind.
  REQUIRE(h.call("write_json", {{"folder", "data"}, {"path", "sub/out.json"}, {"data", 42}}).ok);
  CHECK(h.call("read_json", {{"folder", "data"}, {"path", "./sub/out.json"}}).output["data"] == 42);
  CHECK(tempFiles(h.data()).empty());
}

TEST_CASE("file: CSV round trip with quotes, commas, newlines and UTF-8", "[file]") {
  Harness h;
  Json rows = Json::array({{{"id", 1}, {"name", "Smith, \"Jo\""}, {"note", "line1\nline2"}},
                           {{"id", 2}, {"name", "Zoë ✓"}, {"note", nullptr}}});
  auto w = h.call("write_csv", {{"folder", "data"}, {"path", "people.csv"}, {"rows", rows}, {"columns", {"id", "name", "note"}}});
  INFO(w.message);
  REQUIRE(w.ok);
  CHECK(get(h.data() + "/people.csv") ==
        "id,name,note\r\n1,\"Smith, \"\"Jo\"\"\",\"line1\nline2\"\r\n2,Zoë ✓,\r\n");
  auto r = h.call("read_csv", {{"folder", "data"}, {"path", "people.csv"}});
  REQUIRE(r.ok);
  CHECK(r.output["count"] == 2);
  CHECK(r.output["rows"][0] == Json{{"id", "1"}, {"name", "Smith, \"Jo\""}, {"note", "line1\nline2"}});
  CHECK(r.output["rows"][1] == Json{{"id", "2"}, {"name", "Zoë ✓"}, {"note", ""}});

  auto arrays = h.call("read_csv", {{"folder", "data"}, {"path", "people.csv"}, {"header", false}});
  REQUIRE(arrays.ok);
  CHECK(arrays.output["count"] == 3);
  CHECK(arrays.output["rows"][0] == Json{"id", "name", "note"});

  // Arrays without columns: no header line. LF line ends and a BOM read fine.
  REQUIRE(h.call("write_csv", {{"folder", "data"}, {"path", "a.csv"}, {"rows", Json::array({Json::array({"x", 1}), Json::array({"y,z", true})})}}).ok);
  CHECK(get(h.data() + "/a.csv") == "x,1\r\n\"y,z\",true\r\n");
  put(h.data() + "/lf.csv", "\xEF\xBB\xBF" "a,b\n1,\"2\"\n");
  CHECK(h.call("read_csv", {{"folder", "data"}, {"path", "lf.csv"}}).output["rows"] == Json::array({{{"a", "1"}, {"b", "2"}}}));
  CHECK(tempFiles(h.data()).empty());
}

TEST_CASE("file: paths that leave the folder are refused", "[file]") {
  Harness h;
  const std::string outside = h.dir.path + "/outside";
  fs::create_symlink(outside + "/secret.json", h.data() + "/link.json");
  fs::create_directory_symlink(outside, h.data() + "/linkdir");
  put(h.data() + "/sub/inside.json", "{\"ok\": true}");
  fs::create_symlink("sub/inside.json", h.data() + "/inside-link.json");

  const std::vector<std::string> refused = {"../outside/secret.json", "sub/../../outside/secret.json", "/etc/passwd",
                                            "link.json", "linkdir/secret.json", std::string("sub/x\0.json", 10), ""};
  for (const auto& path : refused) {
    INFO(path);
    auto o = h.call("read_json", {{"folder", "data"}, {"path", path}});
    expectFailure(o, "path_refused");
    CHECK(o.message.find("'data'") != std::string::npos);
    expectFailure(h.call("write_json", {{"folder", "data"}, {"path", path}, {"data", 1}}), "path_refused");
  }
  CHECK(get(outside + "/secret.json").find("OUTSIDEVALUE") != std::string::npos);
  CHECK_FALSE(fs::exists(outside + "/x.json"));
  // A symlink that stays inside the folder is followed.
  auto inside = h.call("read_json", {{"folder", "data"}, {"path", "inside-link.json"}});
  REQUIRE(inside.ok);
  CHECK(inside.output["data"]["ok"] == true);
  expectFailure(h.call("read_json", {{"folder", "data"}, {"path", "sub"}}), "path_refused");
}

TEST_CASE("file: read-only folders, missing files, sizes, bad requests", "[file]") {
  Harness h(64);
  expectFailure(h.call("write_json", {{"folder", "ro"}, {"path", "x.json"}, {"data", 1}}), "read_only");
  CHECK(fs::is_empty(h.dir.path + "/ro"));
  expectFailure(h.call("read_json", {{"folder", "data"}, {"path", "PATHMARKER.json"}}), "not_found");
  expectFailure(h.call("write_json", {{"folder", "data"}, {"path", "nodir/PATHMARKER.json"}, {"data", 1}}), "not_found");

  put(h.data() + "/big.json", "[" + std::string(100, ' ') + "]");
  expectFailure(h.call("read_json", {{"folder", "data"}, {"path", "big.json"}}), "too_large");
  expectFailure(h.call("write_json", {{"folder", "data"}, {"path", "big2.json"}, {"data", std::string(100, 'x')}}),
                "too_large");
  CHECK_FALSE(fs::exists(h.data() + "/big2.json"));
  CHECK(tempFiles(h.data()).empty());

  expectFailure(h.call("read_json", {{"folder", "nope"}, {"path", "a.json"}}), "invalid_request");
  expectFailure(h.call("read_json", {{"folder", "data"}}), "invalid_request");
  expectFailure(h.call("read_json", {{"folder", "data"}, {"path", "a"}, {"extra", 1}}), "invalid_request");
  expectFailure(h.call("write_csv", {{"folder", "data"}, {"path", "a.csv"}, {"rows", Json::array({{{"a", Json::array({1})}}})}}),
                "invalid_request");
  expectFailure(h.call("delete", {{"folder", "data"}, {"path", "a"}}), "unknown_action");
}

TEST_CASE("file: invalid JSON and CSV name the line", "[file]") {
  Harness h;
  put(h.data() + "/bad.json", "{\n  \"a\": 1,\n  \"b\": OUTSIDEVALUE\n}\n");
  auto json = h.call("read_json", {{"folder", "data"}, {"path", "bad.json"}});
  expectFailure(json, "invalid_content");
  CHECK(json.message.find("line 3") != std::string::npos);

  put(h.data() + "/bad.csv", "a,b\n1,2\n\"unterminated,3\n");
  auto csv = h.call("read_csv", {{"folder", "data"}, {"path", "bad.csv"}});
  expectFailure(csv, "invalid_content");
  CHECK(csv.message.find("line 3") != std::string::npos);

  put(h.data() + "/ragged.csv", "a,b\n1,2\n\"x\ny\",2\n3\n");
  auto ragged = h.call("read_csv", {{"folder", "data"}, {"path", "ragged.csv"}});
  expectFailure(ragged, "invalid_content");
  CHECK(ragged.message.find("line 5") != std::string::npos);

  put(h.data() + "/stray.csv", "a,b\n1,x\"y\n");
  expectFailure(h.call("read_csv", {{"folder", "data"}, {"path", "stray.csv"}}), "invalid_content");
  put(h.data() + "/latin1.csv", "a\n\xE9t\xE9\n");
  expectFailure(h.call("read_csv", {{"folder", "data"}, {"path", "latin1.csv"}}), "invalid_content");
}

TEST_CASE("file: registration checks folders", "[file]") {
  TempDir dir;
  vigil::ConnectorRegistry r;
  vigil::FileConnectorOptions o;
  o.folders = {{"x", dir.path + "/missing", false}};
  CHECK_FALSE(vigil::registerFileConnector(r, o).isOk());
  o.folders = {{"x", dir.path, false}, {"x", dir.path, true}};
  CHECK_FALSE(vigil::registerFileConnector(r, o).isOk());
  o.folders = {{"x", dir.path, false}};
  REQUIRE(vigil::registerFileConnector(r, o).isOk());
  CHECK(vigil::registerFileConnector(r, o).code() == vigil::Status::Code::kAlreadyExists);
  REQUIRE(r.action("file", "write_csv"));
  CHECK(r.action("file", "write_csv")->access == "disclosure");
}

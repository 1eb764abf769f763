#include "vigil/file_connector.h"

#include <filesystem>
#include <map>
#include <set>

#include "csv.h"
#include "folder.h"

namespace vigil::file {
namespace {

CallOutcome invalid(const std::string& label, const std::string& what) {
  return CallOutcome::failure("invalid_request", label + ": " + what, false);
}

// A name from call input, shortened and stripped of controls before it goes in a message.
std::string printable(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  return out;
}

bool validUtf8(const std::string& s) {
  // nlohmann's dump throws on invalid UTF-8: that is the check, and the only one we need.
  try {
    (void)Json(s).dump();
    return true;
  } catch (...) {
    return false;
  }
}

int lineAt(const std::string& text, size_t byte) {
  int line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

struct ActionInfo {
  const char* name;
  const char* description;
  std::vector<ParamSpec> extra;  // besides folder and path
  std::vector<ParamSpec> outputs;
  bool write;
};

const std::vector<ActionInfo>& actionTable() {
  static const std::vector<ActionInfo> table = {
      {"read_json", "Reads a JSON file", {}, {{"data", "any", false, "the parsed file"}}, false},
      {"read_csv",
       "Reads a CSV file (RFC 4180)",
       {{"header", "boolean", false, "the first record names the columns (default true)"}},
       {{"rows", "array", false, "objects with a header, else arrays"}, {"count", "integer", false, ""}},
       false},
      {"write_json",
       "Writes a JSON file atomically",
       {{"data", "any", true, "the value to write"}},
       {{"path", "string", false, ""}, {"bytes", "integer", false, ""}},
       true},
      {"write_csv",
       "Writes a CSV file atomically",
       {{"rows", "array", true, "objects or arrays"}, {"columns", "array", false, "column names, in order"}},
       {{"path", "string", false, ""}, {"bytes", "integer", false, ""}},
       true}};
  return table;
}

class FileConnector final : public Connector {
 public:
  FileConnector(std::map<std::string, Folder> folders, std::size_t maxBytes)
      : folders_(std::move(folders)), maxBytes_(maxBytes) {}

  CallOutcome call(const ConnectorCall& c) override {
    // The promise of connector.h: nothing escapes, whatever a library below us throws.
    try {
      return run(c);
    } catch (...) {
      return CallOutcome::failure("internal", "file." + printable(c.action) + " failed unexpectedly", false);
    }
  }

  std::vector<ActionSpec> actions() const override {
    std::vector<ActionSpec> out;
    for (const auto& a : actionTable()) {
      std::vector<ParamSpec> params = {{"folder", "string", true, "a configured folder's name"},
                                       {"path", "string", true, "relative to the folder"}};
      params.insert(params.end(), a.extra.begin(), a.extra.end());
      out.push_back({a.name, a.description, params, a.outputs, false, a.write ? "disclosure" : "consultation"});
    }
    return out;
  }

  std::string description() const override { return "Reads and writes JSON and CSV files in configured folders"; }

 private:
  CallOutcome run(const ConnectorCall& c) const {
    const std::string label = "file." + printable(c.action);
    const ActionInfo* action = nullptr;
    for (const auto& a : actionTable()) action = c.action == a.name ? &a : action;
    if (action == nullptr) return CallOutcome::failure("unknown_action", "file has no action '" + printable(c.action) + "'", false);
    if (!c.input.is_object()) return invalid(label, "the input must be an object");
    std::set<std::string> known = {"folder", "path"};
    for (const auto& p : action->extra) known.insert(p.name);
    for (const auto& [key, value] : c.input.items()) {
      if (known.count(key) == 0) return invalid(label, "unknown parameter '" + printable(key) + "'");
    }
    for (const char* field : {"folder", "path"}) {
      auto v = c.input.find(field);
      if (v == c.input.end() || !v->is_string()) return invalid(label, std::string("'") + field + "' must be a string");
    }
    auto folder = folders_.find(c.input["folder"].get<std::string>());
    if (folder == folders_.end()) return invalid(label, "no folder named '" + printable(c.input["folder"].get<std::string>()) + "'");
    const Folder& f = folder->second;
    const std::string& path = c.input["path"].get_ref<const std::string&>();

    if (c.action == "read_json" || c.action == "read_csv") {
      auto read = f.read(label, path, maxBytes_);
      if (auto* failed = std::get_if<CallOutcome>(&read)) return *failed;
      const auto& text = std::get<std::string>(read);
      return c.action == "read_json" ? readJson(label, f, text) : readCsv(label, f, text, c.input);
    }
    std::string content;
    if (c.action == "write_json") {
      if (!c.input.contains("data")) return invalid(label, "'data' is required");
      content = c.input["data"].dump(2) + "\n";
    } else {
      auto built = buildCsv(label, c.input);
      if (auto* failed = std::get_if<CallOutcome>(&built)) return *failed;
      content = std::move(std::get<std::string>(built));
    }
    if (content.size() > maxBytes_) {
      return CallOutcome::failure("too_large", label + ": folder '" + f.name() + "': the content is larger than " +
                                                   std::to_string(maxBytes_) + " bytes",
                                  false);
    }
    auto written = f.write(label, path, content);
    if (auto* failed = std::get_if<CallOutcome>(&written)) return *failed;
    return CallOutcome::success({{"path", path}, {"bytes", std::get<std::size_t>(written)}});
  }

  static CallOutcome badContent(const std::string& label, const Folder& f, const std::string& what, int line) {
    return CallOutcome::failure("invalid_content",
                                label + ": folder '" + f.name() + "': " + what + " at line " + std::to_string(line),
                                false);
  }

  static CallOutcome readJson(const std::string& label, const Folder& f, const std::string& text) {
    try {
      return CallOutcome::success({{"data", Json::parse(text)}});
    } catch (const Json::parse_error& e) {
      // e.what() quotes the text near the error; only the position goes out.
      return badContent(label, f, "invalid JSON", lineAt(text, e.byte == 0 ? 0 : e.byte - 1));
    }
  }

  static CallOutcome readCsv(const std::string& label, const Folder& f, const std::string& text, const Json& input) {
    bool header = true;
    if (auto h = input.find("header"); h != input.end()) {
      if (!h->is_boolean()) return invalid(label, "'header' must be a boolean");
      header = h->get<bool>();
    }
    if (!validUtf8(text)) return badContent(label, f, "text that is not UTF-8", 1);
    auto parsed = parseCsv(text);
    if (auto* error = std::get_if<CsvError>(&parsed)) return badContent(label, f, "invalid CSV: " + error->what, error->line);
    const auto& table = std::get<CsvTable>(parsed);
    Json rows = Json::array();
    if (!header) {
      for (const auto& r : table.records) rows.push_back(r);
    } else if (!table.records.empty()) {
      const auto& columns = table.records.front();
      std::set<std::string> seen(columns.begin(), columns.end());
      if (seen.size() != columns.size()) return badContent(label, f, "invalid CSV: a repeated column name", 1);
      for (size_t k = 1; k < table.records.size(); ++k) {
        const auto& r = table.records[k];
        if (r.size() != columns.size()) {
          return badContent(label, f, "invalid CSV: a record with " + std::to_string(r.size()) + " fields for " +
                                          std::to_string(columns.size()) + " columns",
                            table.lines[k]);
        }
        Json row = Json::object();
        for (size_t i = 0; i < r.size(); ++i) row[columns[i]] = r[i];
        rows.push_back(std::move(row));
      }
    }
    auto count = rows.size();
    return CallOutcome::success({{"rows", std::move(rows)}, {"count", count}});
  }

  static std::variant<std::string, CallOutcome> buildCsv(const std::string& label, const Json& input) {
    auto rows = input.find("rows");
    if (rows == input.end() || !rows->is_array()) return invalid(label, "'rows' must be an array");
    std::vector<std::string> columns;
    bool haveColumns = false;
    if (auto cols = input.find("columns"); cols != input.end() && !cols->is_null()) {
      if (!cols->is_array()) return invalid(label, "'columns' must be an array of strings");
      for (const auto& col : *cols) {
        if (!col.is_string()) return invalid(label, "'columns' must be an array of strings");
        columns.push_back(col.get<std::string>());
      }
      haveColumns = true;
    }
    bool objects = !rows->empty() && rows->front().is_object();
    if (objects && !haveColumns) {
      std::set<std::string> keys;
      for (const auto& r : *rows) {
        if (r.is_object()) {
          for (const auto& [key, value] : r.items()) keys.insert(key);
        }
      }
      columns.assign(keys.begin(), keys.end());
      haveColumns = true;
    }
    std::string out = haveColumns ? csvLine(columns) : "";
    for (size_t k = 0; k < rows->size(); ++k) {
      const Json& r = (*rows)[k];
      if (r.is_object() != objects || (!objects && !r.is_array())) {
        return invalid(label, "'rows' must all be objects or all be arrays (row " + std::to_string(k) + ")");
      }
      CsvRecord fields;
      auto add = [&](const Json& v) {
        if (v.is_object() || v.is_array()) return false;
        fields.push_back(v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump());
        return true;
      };
      bool scalars = true;
      if (objects) {
        for (const auto& col : columns) {
          auto v = r.find(col);
          scalars = scalars && add(v == r.end() ? Json() : *v);
        }
      } else {
        for (const auto& v : r) scalars = scalars && add(v);
      }
      if (!scalars) return invalid(label, "row " + std::to_string(k) + " holds an object or array");
      out += csvLine(fields);
    }
    return out;
  }

  std::map<std::string, Folder> folders_;
  std::size_t maxBytes_;
};

}  // namespace
}  // namespace vigil::file

namespace vigil {

Status registerFileConnector(ConnectorRegistry& registry, const FileConnectorOptions& options) {
  auto bad = [](const std::string& what) { return Status::invalidArgument("file connector: " + what); };
  if (options.maxBytes == 0) return bad("maxBytes must be positive");
  if (options.maxConcurrency < 1) return bad("maxConcurrency must be at least 1");
  std::map<std::string, file::Folder> folders;
  for (const auto& f : options.folders) {
    if (f.name.empty()) return bad("a folder has no name");
    std::error_code ec;
    auto root = std::filesystem::canonical(f.path, ec);
    if (ec || !std::filesystem::is_directory(root, ec)) {
      return bad("folder '" + f.name + "': the path is not an existing directory");
    }
    if (!folders.emplace(f.name, file::Folder(f.name, root.string(), f.writable)).second) {
      return bad("folder '" + f.name + "' is configured twice");
    }
  }
  if (registry.find("file") != nullptr) return Status::alreadyExists("connector 'file' is already registered");
  return registry.add("file", std::make_shared<file::FileConnector>(std::move(folders), options.maxBytes),
                      options.maxConcurrency);
}

}  // namespace vigil

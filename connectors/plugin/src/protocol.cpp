#include "protocol.h"

#include <algorithm>
#include <array>

namespace vigil::plugin {
namespace {

constexpr std::size_t kMaxMessageBytes = 500;  // a failure message, trimmed past this

Json parseLine(std::string_view line) {
  return Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
}

bool isOneOf(const std::string& value, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return value == a; });
}

Status parseFields(const Json& list, const std::string& where, std::vector<ParamSpec>& out) {
  if (list.is_null()) {
    return Status::ok();
  }
  if (!list.is_array()) {
    return Status::invalidArgument(where + " is not an array");
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& f = list[i];
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty()) {
      return Status::invalidArgument(at + " has no name");
    }
    ParamSpec p;
    p.name = f["name"].get<std::string>();
    if (f.contains("type")) {
      if (!f["type"].is_string() ||
          !isOneOf(f["type"].get<std::string>(), {"string", "integer", "number", "boolean", "object", "array", "any"})) {
        return Status::invalidArgument(at + " has an unknown type");
      }
      p.type = f["type"].get<std::string>();
    }
    if (f.contains("required")) {
      if (!f["required"].is_boolean()) {
        return Status::invalidArgument(at + ".required is not a boolean");
      }
      p.required = f["required"].get<bool>();
    }
    if (f.contains("description") && f["description"].is_string()) {
      p.description = f["description"].get<std::string>();
    }
    out.push_back(std::move(p));
  }
  return Status::ok();
}

Result<ActionSpec> parseAction(const Json& a, std::size_t index) {
  std::string at = "actions[" + std::to_string(index) + "]";
  if (!a.is_object() || !a.contains("name") || !a["name"].is_string() || a["name"].get<std::string>().empty()) {
    return Status::invalidArgument(at + " has no name");
  }
  ActionSpec spec;
  spec.name = a["name"].get<std::string>();
  at = "action '" + spec.name + "'";
  if (a.contains("description") && a["description"].is_string()) {
    spec.description = a["description"].get<std::string>();
  }
  if (a.contains("access")) {
    if (!a["access"].is_string() || !isOneOf(a["access"].get<std::string>(), {"consultation", "disclosure", "alteration"})) {
      return Status::invalidArgument(at + " has an unknown access (consultation, disclosure or alteration)");
    }
    spec.access = a["access"].get<std::string>();
  }
  if (Status s = parseFields(a.value("params", Json()), at + " params", spec.params); !s) {
    return s;
  }
  if (Status s = parseFields(a.value("outputs", Json()), at + " outputs", spec.outputs); !s) {
    return s;
  }
  return spec;
}

}  // namespace

std::string helloLine() {
  return Json{{"type", "hello"}, {"protocol", kProtocolVersion}}.dump() + "\n";
}

Result<Hello> parseHello(std::string_view line) {
  Json j = parseLine(line);
  if (j.is_discarded()) {
    return Status::invalidArgument("its hello is not JSON");
  }
  if (!j.is_object() || j.value("type", Json()) != "hello") {
    return Status::invalidArgument("its first line is not a hello");
  }
  if (!j.contains("protocol") || !j["protocol"].is_number_integer()) {
    return Status::invalidArgument("its hello has no protocol version");
  }
  if (j["protocol"].get<long long>() != kProtocolVersion) {
    return Status::invalidArgument("it speaks protocol " + std::to_string(j["protocol"].get<long long>()) +
                                   ", vigil speaks " + std::to_string(kProtocolVersion));
  }
  Hello hello;
  if (!j.contains("name") || !j["name"].is_string()) {
    return Status::invalidArgument("its hello has no name");
  }
  hello.name = j["name"].get<std::string>();
  if (!j.contains("actions") || !j["actions"].is_array() || j["actions"].empty()) {
    return Status::invalidArgument("its hello declares no actions");
  }
  for (std::size_t i = 0; i < j["actions"].size(); ++i) {
    auto action = parseAction(j["actions"][i], i);
    if (!action) {
      return Status::invalidArgument("its hello is malformed: " + action.status().message());
    }
    for (const auto& seen : hello.actions) {
      if (seen.name == action->name) {
        return Status::invalidArgument("its hello declares action '" + seen.name + "' twice");
      }
    }
    hello.actions.push_back(std::move(action).value());
  }
  if (j.contains("max_concurrency")) {
    if (!j["max_concurrency"].is_number_integer() || j["max_concurrency"].get<long long>() < 1) {
      return Status::invalidArgument("its hello's max_concurrency is not a positive integer");
    }
    hello.maxConcurrency = static_cast<int>(std::min<long long>(j["max_concurrency"].get<long long>(), kMaxConcurrency));
  }
  return hello;
}

std::string callLine(std::uint64_t id, const ConnectorCall& call, std::chrono::milliseconds budget) {
  Json j = {{"type", "call"},
            {"id", id},
            {"action", call.action},
            {"input", call.input.is_null() ? Json::object() : call.input},
            {"idempotency_key", call.idempotencyKey},
            {"purpose", call.purpose},
            {"deadline_ms", std::max<long long>(budget.count(), 0)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<CallOutcome> parseResult(std::string_view line, std::uint64_t id) {
  Json j = parseLine(line);
  if (j.is_discarded()) {
    return Status::invalidArgument("answered a line that is not JSON");
  }
  if (!j.is_object() || j.value("type", Json()) != "result") {
    return Status::invalidArgument("answered a line that is not a result");
  }
  if (!j.contains("id") || !j["id"].is_number_unsigned() || j["id"].get<std::uint64_t>() != id) {
    return Status::invalidArgument("answered with the wrong id (expected " + std::to_string(id) + ")");
  }
  if (!j.contains("ok") || !j["ok"].is_boolean()) {
    return Status::invalidArgument("answered a result without a boolean 'ok'");
  }
  if (j["ok"].get<bool>()) {
    return CallOutcome::success(j.contains("output") ? j["output"] : Json::object());
  }
  if (!j.contains("code") || !j["code"].is_string() || j["code"].get<std::string>().empty()) {
    return Status::invalidArgument("answered a failure without a code");
  }
  std::string message = j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
  if (message.size() > kMaxMessageBytes) {
    std::size_t cut = kMaxMessageBytes;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) {
      --cut;  // never split a UTF-8 sequence: the message must stay valid text
    }
    message.resize(cut);
  }
  bool retryable = j.contains("retryable") && j["retryable"].is_boolean() && j["retryable"].get<bool>();
  return CallOutcome::failure(j["code"].get<std::string>(), std::move(message), retryable);
}

}  // namespace vigil::plugin

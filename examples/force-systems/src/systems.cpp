// Routes of the four synthetic systems. Every answer is JSON; someone a system does not
// know is {found: false, ...} with empty fields, as the real systems answer, not an error.
#include "systems.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include <httplib.h>

namespace vigil::examples {

struct ForceSystems::System {
  std::string name;
  httplib::Server server;
  int port = 0;
  std::atomic<bool> down{false};
  std::thread thread;
};

namespace {

void reply(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

std::string nowUtc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The person a lookup names, or null (unknown). False when the request is malformed, with
// the 400 already written.
bool lookup(const Directory& people, const httplib::Request& req, httplib::Response& res, const Person** out) {
  const std::string name = req.get_param_value("name");
  if (name.empty()) {
    reply(res, 400, {{"error", "the query needs name (and dob)"}});
    return false;
  }
  *out = people.find(name, req.get_param_value("dob"));
  return true;
}

// `fields` arrives as a JSON array (how the REST connector renders an array parameter) or
// as a comma-separated list. Keeps `found` and the named fields.
Json pick(Json body, const httplib::Request& req) {
  if (!req.has_param("fields")) return body;
  const std::string raw = req.get_param_value("fields");
  std::vector<std::string> names;
  Json parsed = Json::parse(raw, nullptr, false);
  if (parsed.is_array()) {
    for (const auto& f : parsed) {
      if (f.is_string()) names.push_back(f.get<std::string>());
    }
  } else {
    std::stringstream ss(raw);
    for (std::string f; std::getline(ss, f, ',');) names.push_back(f);
  }
  Json out = {{"found", body["found"]}};
  for (const auto& n : names) {
    if (body.contains(n)) out[n] = body[n];
  }
  return out;
}

bool isDatePrefix(const std::string& s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

ForceSystems::ForceSystems(const Directory& people, SystemsOptions options) : people_(people), options_(std::move(options)) {
  const char* names[] = {"pnd", "rms", "csc", "education"};
  for (size_t i = 0; i < systems_.size(); ++i) {
    systems_[i] = std::make_unique<System>();
    systems_[i]->name = names[i];
    routes(*systems_[i]);
  }
}

ForceSystems::~ForceSystems() { stop(); }

bool ForceSystems::bind(int portBase, std::string* error) {
  for (size_t i = 0; i < systems_.size(); ++i) {
    System& s = *systems_[i];
    if (portBase == 0) {
      s.port = s.server.bind_to_any_port("127.0.0.1");
    } else {
      s.port = portBase + static_cast<int>(i);
      if (!s.server.bind_to_port("127.0.0.1", s.port)) s.port = -1;
    }
    if (s.port <= 0) {
      *error = "cannot bind " + s.name + " to 127.0.0.1:" + (portBase == 0 ? "any port" : std::to_string(portBase + static_cast<int>(i)));
      return false;
    }
  }
  return true;
}

Json ForceSystems::ports() const {
  Json out = Json::object();
  for (const auto& s : systems_) out[s->name] = s->port;
  return out;
}

void ForceSystems::start() {
  for (auto& s : systems_) {
    System* sys = s.get();
    sys->thread = std::thread([sys] { sys->server.listen_after_bind(); });
  }
}

void ForceSystems::stop() {
  for (auto& s : systems_) {
    if (s && s->thread.joinable()) {
      s->server.stop();
      s->thread.join();
    }
  }
}

void ForceSystems::routes(System& s) {
  httplib::Server& srv = s.server;
  System* sys = &s;
  srv.set_payload_max_length(256 * 1024);
  // httplib's default also sets SO_REUSEPORT, which would let a second copy share a port
  // silently (and take half the requests); a port in use must be an error instead.
  srv.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  srv.set_read_timeout(5, 0);
  srv.set_pre_routing_handler([this, sys](const httplib::Request& req, httplib::Response& res) {
    if (!options_.token.empty() && req.get_header_value("Authorization") != "Bearer " + options_.token) {
      res.set_header("WWW-Authenticate", "Bearer");
      reply(res, 401, {{"error", "unauthorized"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (sys->down.load() && req.path != "/admin/down") {
      reply(res, 503, {{"error", sys->name + " is down (demo switch)"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  if (options_.log) {
    srv.set_logger([sys](const httplib::Request& req, const httplib::Response& res) {
      std::ostringstream line;
      line << sys->name << " " << req.method << " " << req.path << " " << res.status << "\n";
      std::cerr << line.str() << std::flush;
    });
  }
  srv.Get("/health", [sys](const httplib::Request&, httplib::Response& res) {
    reply(res, 200, {{"status", "ok"}, {"system", sys->name}});
  });
  srv.Post("/admin/down", [sys](const httplib::Request& req, httplib::Response& res) {
    Json body = Json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("down") || !body["down"].is_boolean()) {
      reply(res, 400, {{"error", "the body must be {\"down\": true|false}"}});
      return;
    }
    sys->down.store(body["down"].get<bool>());
    reply(res, 200, {{"system", sys->name}, {"down", sys->down.load()}});
  });
  if (s.name == "pnd") routePnd(srv);
  if (s.name == "rms") routeRms(srv);
  if (s.name == "csc") routeCsc(srv);
  if (s.name == "education") routeEducation(srv);
}

namespace {

// A list parameter: a JSON array (how the REST connector renders one) or comma-separated.
std::vector<std::string> listParam(const httplib::Request& req, const char* name) {
  std::vector<std::string> out;
  if (!req.has_param(name)) return out;
  const std::string raw = req.get_param_value(name);
  Json parsed = Json::parse(raw, nullptr, false);
  if (parsed.is_array()) {
    for (const auto& v : parsed) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
    return out;
  }
  std::stringstream ss(raw);
  for (std::string v; std::getline(ss, v, ',');) out.push_back(v);
  return out;
}

}  // namespace

void ForceSystems::routePnd(httplib::Server& srv) {
  // Candidate search by surname sound and date of birth or forename: names and dates of
  // birth only, for the caller to score (vigil's person_match), never the records.
  srv.Get("/people/candidates", [this](const httplib::Request& req, httplib::Response& res) {
    const auto keys = listParam(req, "surname_keys");
    if (keys.empty()) {
      reply(res, 400, {{"error", "the query needs surname_keys (and dobs or forenames)"}});
      return;
    }
    Json people = Json::array();
    for (const Person* p : people_.search(keys, listParam(req, "forenames"), listParam(req, "dobs"), 50)) {
      people.push_back({{"name", p->name}, {"dob", p->dob}});
    }
    reply(res, 200, {{"count", people.size()}, {"people", people}});
  });
  srv.Get("/people", [this](const httplib::Request& req, httplib::Response& res) {
    const Person* p = nullptr;
    if (!lookup(people_, req, res, &p)) return;
    Json body = {{"found", false}, {"markers", Json::array()}, {"warnings", Json::array()}, {"records", Json::array()}};
    if (p != nullptr && p->pnd.is_object()) {
      body["found"] = true;
      body["markers"] = p->pnd.value("markers", Json::array());
      body["warnings"] = p->pnd.value("warnings", Json::array());
      for (const auto& m : body["markers"]) body["records"].push_back({{"system", "pnd"}, {"kind", "marker"}, {"detail", m}});
      for (const auto& w : body["warnings"]) body["records"].push_back({{"system", "pnd"}, {"kind", "warning"}, {"detail", w}});
    }
    reply(res, 200, pick(std::move(body), req));
  });
}

void ForceSystems::routeRms(httplib::Server& srv) {
  srv.Get("/people/records", [this](const httplib::Request& req, httplib::Response& res) {
    const Person* p = nullptr;
    if (!lookup(people_, req, res, &p)) return;
    const std::string since = req.get_param_value("since");
    if (!since.empty() && !isDatePrefix(since)) {
      reply(res, 400, {{"error", "since must be an ISO-8601 date or time"}});
      return;
    }
    // Earlier MASH referrals about the person: those received in [referrals_since,
    // referrals_before), both ISO-8601 UTC times (compared as text, which orders them).
    const std::string refSince = req.get_param_value("referrals_since");
    const std::string refBefore = req.get_param_value("referrals_before");
    if ((!refSince.empty() && !isDatePrefix(refSince)) || (!refBefore.empty() && !isDatePrefix(refBefore))) {
      reply(res, 400, {{"error", "referrals_since and referrals_before must be ISO-8601 times"}});
      return;
    }
    Json body = {{"found", false}, {"incidents", Json::array()}, {"referrals", Json::array()}, {"records", Json::array()}};
    if (p != nullptr && p->rms.is_object()) {
      body["found"] = true;
      for (const auto& inc : p->rms["incidents"]) {
        if (!since.empty() && inc["date"].get<std::string>() < since.substr(0, 10)) continue;
        body["incidents"].push_back(inc);
        Json rec = inc;
        rec["system"] = "rms";
        rec["kind"] = "incident";
        body["records"].push_back(std::move(rec));
      }
      for (const auto& ref : p->rms.value("referrals", Json::array())) {
        const std::string at = ref.value("received_at", "");
        if ((!refSince.empty() && at < refSince) || (!refBefore.empty() && at >= refBefore)) continue;
        body["referrals"].push_back(ref);
      }
    }
    reply(res, 200, pick(std::move(body), req));
  });
  srv.Post("/outcomes", [this](const httplib::Request& req, httplib::Response& res) {
    Json body = Json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("referral") || !body["referral"].is_string() || !body.contains("band") ||
        !body["band"].is_string()) {
      reply(res, 400, {{"error", "the body must be a JSON object with referral and band (strings)"}});
      return;
    }
    const std::string key = req.get_header_value("Idempotency-Key");
    std::lock_guard<std::mutex> lock(mu_);
    if (!key.empty()) {  // a call repeated after a crash records nothing new
      for (const auto& o : outcomes_) {
        if (o.value("idempotency_key", "") == key) {
          reply(res, 200, {{"recorded", true}, {"id", o["id"]}});
          return;
        }
      }
    }
    char id[32];
    std::snprintf(id, sizeof id, "OUT-%06zu", outcomes_.size() + 1);
    body["id"] = id;
    body["recorded_at"] = nowUtc();
    if (!key.empty()) body["idempotency_key"] = key;
    outcomes_.push_back(body);
    if (!options_.outcomesFile.empty()) {
      std::ofstream(options_.outcomesFile, std::ios::app) << body.dump() << "\n";
    }
    reply(res, 201, {{"recorded", true}, {"id", id}});
  });
  srv.Get("/outcomes", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    reply(res, 200, {{"outcomes", outcomes_}});
  });
}

void ForceSystems::routeCsc(httplib::Server& srv) {
  srv.Get("/cases", [this](const httplib::Request& req, httplib::Response& res) {
    const Person* p = nullptr;
    if (!lookup(people_, req, res, &p)) return;
    Json body = {{"found", false}, {"open_case", false}, {"case_worker", nullptr}, {"plan", nullptr}, {"records", Json::array()}};
    if (p != nullptr && p->csc.is_object()) {
      body["found"] = true;
      body["open_case"] = p->csc.value("open_case", false);
      body["case_worker"] = p->csc.value("case_worker", Json());
      body["plan"] = p->csc.value("plan", Json());
      body["records"].push_back({{"system", "csc"}, {"kind", "case"}, {"open", body["open_case"]}, {"plan", body["plan"]}});
    }
    reply(res, 200, pick(std::move(body), req));
  });
}

void ForceSystems::routeEducation(httplib::Server& srv) {
  srv.Get("/pupils", [this](const httplib::Request& req, httplib::Response& res) {
    const Person* p = nullptr;
    if (!lookup(people_, req, res, &p)) return;
    Json body = {{"found", false}, {"on_roll", false}, {"school", nullptr}, {"key_adult_email", nullptr}};
    if (p != nullptr && p->education.is_object()) {
      body["found"] = true;
      body["on_roll"] = p->education.value("on_roll", false);
      body["school"] = p->education.value("school", Json());
      body["key_adult_email"] = p->education.value("key_adult_email", Json());
    }
    reply(res, 200, pick(std::move(body), req));
  });
}

}  // namespace vigil::examples

// Users and tokens through the API (admins only); the same operations as `vigil users`.
#include "api/api.h"

namespace vigil::daemon {

HttpResponse Api::listUsers(HttpRequest&, const Principal&) {
  auto list = ctx_.users->list();
  if (!list) return HttpResponse::error(503, "unavailable", "users cannot be read now");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& u : *list) items.push_back({{"name", u.name}, {"roles", u.roles}, {"tokens", u.activeTokenIds}});
  return HttpResponse::json(200, {{"items", items}});
}

HttpResponse Api::addUser(HttpRequest& req, const Principal& who) {
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() || !body.contains("roles") ||
      !body["roles"].is_array()) {
    return HttpResponse::error(400, "invalid_request", "body must be {\"name\": NAME, \"roles\": [ROLE...]}");
  }
  std::set<std::string> roles;
  for (const auto& r : body["roles"]) {
    if (!r.is_string()) return HttpResponse::error(400, "invalid_request", "roles must be strings", "roles");
    roles.insert(r.get<std::string>());
  }
  auto token = ctx_.users->addUser(body["name"].get<std::string>(), roles);
  if (!token) {
    const Status& s = token.status();
    if (s.code() == Status::Code::kAlreadyExists) return HttpResponse::error(409, "conflict", s.message(), "name");
    if (s.code() == Status::Code::kInvalidArgument) return HttpResponse::error(400, "invalid_request", s.message());
    return HttpResponse::error(503, "unavailable", "the user could not be added");
  }
  ctx_.log->info("admin {} added user {}", who.user, body["name"].get<std::string>());
  recordAdmin(who, "add user", {{"event", "user_added"}, {"name", body["name"]}, {"roles", body["roles"]}});
  // The token is in this one response only; it is stored as a hash.
  return HttpResponse::json(201, {{"name", body["name"]}, {"roles", roles}, {"token", *token}});
}

HttpResponse Api::revokeToken(HttpRequest& req, const Principal& who) {
  Status s = ctx_.users->revokeToken(req.params["id"]);
  if (!s) {
    if (s.code() == Status::Code::kNotFound) return HttpResponse::error(404, "not_found", s.message());
    if (s.code() == Status::Code::kInvalidArgument) return HttpResponse::error(400, "invalid_request", s.message(), "id");
    return HttpResponse::error(503, "unavailable", "the token could not be revoked now");
  }
  ctx_.log->info("admin {} revoked token {}", who.user, req.params["id"]);
  recordAdmin(who, "revoke token", {{"event", "token_revoked"}, {"token", req.params["id"]}});
  return HttpResponse::json(200, {{"id", req.params["id"]}, {"revoked", true}});
}

}  // namespace vigil::daemon

// Users and tokens through the API (admins only); the same operations as `vigil users`.
#include "api/resources.h"

namespace vigil::daemon {

std::vector<Route> UserResource::routes() {
  using P = Permission;
  using R = UserResource;
  return {
      {.method = "GET", .pattern = "/api/v1/users", .permission = P::kManageUsers, .handler = bind(&R::listUsers)},
      {.method = "POST", .pattern = "/api/v1/users", .permission = P::kManageUsers, .handler = bind(&R::addUser)},
      {.method = "GET", .pattern = "/api/v1/users/grants", .permission = P::kManageUsers, .handler = bind(&R::listGrants)},
      {.method = "POST", .pattern = "/api/v1/users/grants/{id}/{decision}", .permission = P::kManageUsers,
       .handler = bind(&R::decideGrant)},
      {.method = "POST", .pattern = "/api/v1/tokens/{id}/revoke", .permission = P::kManageUsers, .handler = bind(&R::revokeToken)},
  };
}

HttpResponse UserResource::listUsers(HttpRequest&, Call&) {
  auto list = ctx_.users->list();
  if (!list) return HttpResponse::error(503, "unavailable", "users cannot be read now");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& u : *list) items.push_back({{"name", u.name}, {"roles", u.roles}, {"tokens", u.activeTokenIds}});
  return HttpResponse::json(200, {{"items", items}});
}

HttpResponse UserResource::addUser(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
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
  const std::string name = body["name"].get<std::string>();
  if (needsSecondAdmin(roles)) {
    // Reading run data or deciding: a second admin confirms before the account exists.
    auto id = ctx_.users->requestGrant(name, roles, who.user);
    if (!id) {
      const Status& s = id.status();
      if (s.code() == Status::Code::kAlreadyExists) return HttpResponse::error(409, "conflict", s.message(), "name");
      if (s.code() == Status::Code::kInvalidArgument) return HttpResponse::error(400, "invalid_request", s.message());
      return HttpResponse::error(503, "unavailable", "the grant could not be recorded");
    }
    ctx_.log->info("admin {} asked for user {} (grant {}); a second admin must confirm", who.user, name, *id);
    recordAdmin(who, "request role grant", {{"event", "role_grant_requested"}, {"grant", *id}, {"name", name}, {"roles", roles}});
    return HttpResponse::json(202, {{"grant", *id}, {"name", name}, {"roles", roles}, {"status", "pending"},
                                    {"confirm", "POST /api/v1/users/grants/" + std::to_string(*id) + "/confirm (another admin)"}});
  }
  auto token = ctx_.users->addUser(name, roles);
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

namespace {

std::optional<long long> grantId(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(text);
}

HttpResponse grantRefusal(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound: return HttpResponse::error(404, "not_found", s.message());
    case Status::Code::kFailedPrecondition: return HttpResponse::error(409, "conflict", s.message());
    case Status::Code::kAlreadyExists: return HttpResponse::error(409, "conflict", s.message());
    case Status::Code::kInvalidArgument: return HttpResponse::error(403, "not_allowed", s.message());
    default: return HttpResponse::error(503, "unavailable", "the grant could not be decided now");
  }
}

}  // namespace

HttpResponse UserResource::decideGrant(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  auto id = grantId(req.params["id"]);
  if (!id) return HttpResponse::error(400, "invalid_request", "a grant id is a number", "id");
  const bool confirm = req.params["decision"] == "confirm";
  if (!confirm && req.params["decision"] != "decline") return HttpResponse::error(404, "not_found", "confirm or decline");
  if (confirm) {
    auto token = ctx_.users->confirmGrant(*id, who.user);
    if (!token) {
      recordAdmin(who, "role grant refused", {{"event", "role_grant_refused"}, {"grant", *id}, {"why", token.status().message()}});
      return grantRefusal(token.status());
    }
    ctx_.log->info("admin {} confirmed grant {}", who.user, *id);
    recordAdmin(who, "confirm role grant", {{"event", "role_grant_confirmed"}, {"grant", *id}});
    return HttpResponse::json(201, {{"grant", *id}, {"status", "confirmed"}, {"token", *token}});
  }
  Status s = ctx_.users->declineGrant(*id, who.user);
  if (!s) return grantRefusal(s);
  recordAdmin(who, "decline role grant", {{"event", "role_grant_declined"}, {"grant", *id}});
  return HttpResponse::json(200, {{"grant", *id}, {"status", "declined"}});
}

// The report of role changes: every grant asked for, by whom, and who decided it.
HttpResponse UserResource::listGrants(HttpRequest&, Call&) {
  auto list = ctx_.users->grants();
  if (!list) return HttpResponse::error(503, "unavailable", "grants cannot be read now");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& g : *list) {
    items.push_back({{"grant", g.id}, {"name", g.user}, {"roles", g.roles}, {"requested_by", g.requestedBy},
                     {"requested_at", g.requestedAt}, {"status", g.status},
                     {"decided_by", g.decidedBy.empty() ? nlohmann::json() : nlohmann::json(g.decidedBy)},
                     {"decided_at", g.decidedAt == 0 ? nlohmann::json() : nlohmann::json(g.decidedAt)}});
  }
  return HttpResponse::json(200, {{"items", items}});
}

HttpResponse UserResource::revokeToken(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
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

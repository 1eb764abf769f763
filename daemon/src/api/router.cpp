#include "api/router.h"

namespace vigil::daemon {

bool matchRoute(const std::string& pattern, const std::string& path, std::map<std::string, std::string>* params) {
  size_t p = 0, s = 0;
  while (p < pattern.size() && s < path.size()) {
    if (pattern.compare(p, std::string::npos, "{path*}") == 0) {
      // A trailing wildcard takes the rest of the path, slashes included.
      (*params)["path"] = path.substr(s);
      return true;
    }
    if (pattern[p] == '{') {
      size_t close = pattern.find('}', p);
      size_t end = path.find('/', s);
      if (end == std::string::npos) end = path.size();
      if (end == s) return false;
      (*params)[pattern.substr(p + 1, close - p - 1)] = path.substr(s, end - s);
      p = close + 1;
      s = end;
      continue;
    }
    if (pattern[p] != path[s]) return false;
    ++p;
    ++s;
  }
  return p == pattern.size() && s == path.size();
}

void Router::add(std::vector<Route> routes) {
  for (auto& r : routes) routes_.push_back(std::move(r));
}

void Router::use(Middleware m) { chain_.push_back(std::move(m)); }

HttpResponse Router::handle(HttpRequest& req) const {
  const Route* found = nullptr;
  bool pathKnown = false;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!matchRoute(r.pattern, req.path, &params)) continue;
    pathKnown = true;
    if (r.method != req.method) continue;
    found = &r;
    for (auto& [k, v] : params) v = percentDecode(v, false);
    req.params = std::move(params);
    break;
  }
  HttpResponse answer;
  if (found == nullptr) {
    answer = pathKnown ? HttpResponse::error(405, "method_not_allowed", "method " + req.method + " is not allowed here")
                       : HttpResponse::error(404, "not_found", "no such endpoint");
  } else {
    Call call;
    // Each link calls the next; the last calls the handler.
    std::function<HttpResponse(size_t)> at = [&](size_t i) -> HttpResponse {
      if (i == chain_.size()) return found->handler(req, call);
      return chain_[i](req, *found, call, [&at, i] { return at(i + 1); });
    };
    answer = at(0);
  }
  if (finish_) finish_(req, answer);
  return answer;
}

}  // namespace vigil::daemon

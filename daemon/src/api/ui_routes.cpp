// The workbench's page and files. The page (index.html) is the same for every path under
// /ui/: it holds no data, and each view asks the API, which checks the caller's roles, for
// what it shows. Files are addressed by the digest of the whole build (/assets/BUILD/NAME,
// so the bundle's own relative imports of its chunks resolve), cached for a year, and a new
// build is never mixed with an old one; the page itself is revalidated on every load (ETag).
#include <map>

#include "api/resources.h"
#include "ui/ui_assets.h"
#include "vigil/merkle.h"

namespace vigil::daemon {
namespace {

struct Served {
  std::string contentType;
  std::string bytes;
  std::string digest;  // 16 hex digits of the SHA-256
};

std::string contentTypeOf(const std::string& name) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},             {".png", "image/png"},                     {".json", "application/json"},
      {".map", "application/json"},          {".ico", "image/x-icon"},                  {".woff2", "font/woff2"}};
  const auto dot = name.rfind('.');
  auto it = dot == std::string::npos ? kTypes.end() : kTypes.find(name.substr(dot));
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::string digestOf(std::string_view bytes) { return merkle::toHex(merkle::sha256(bytes)).substr(0, 16); }

struct Built {
  std::map<std::string, Served> files;  // by name, index.html excluded
  Served page;
  std::string id;  // 16 hex digits of the SHA-256 of every file's name and bytes
  bool present = false;
};

// The files as embedded, and the page with each "/assets/NAME" it names rewritten to the
// file's digest address.
const Built& built() {
  static const Built kBuilt = [] {
    Built b;
    std::string page;
    std::string all;
    for (const auto& a : uiAssets()) {
      all += std::string(a.name) + '\0' + std::to_string(a.bytes.size()) + '\0';
      all += a.bytes;
      const std::string name(a.name);
      if (name == "index.html") {
        page = std::string(a.bytes);
        continue;
      }
      b.files[name] = {contentTypeOf(name), std::string(a.bytes), digestOf(a.bytes)};
    }
    if (page.empty()) return b;
    b.id = digestOf(all);
    for (const auto& [name, f] : b.files) {
      const std::string plain = "\"/assets/" + name + "\"";
      const std::string addressed = "\"/assets/" + b.id + "/" + name + "\"";
      for (size_t at = page.find(plain); at != std::string::npos; at = page.find(plain, at + addressed.size())) {
        page.replace(at, plain.size(), addressed);
      }
    }
    b.page = {"text/html; charset=utf-8", page, digestOf(page)};
    b.present = true;
    return b;
  }();
  return kBuilt;
}

HttpResponse serve(const HttpRequest& req, const Served& f, const std::string& cacheControl) {
  const std::string etag = "\"" + f.digest + "\"";
  HttpResponse r;
  r.headers["ETag"] = etag;
  r.headers["Cache-Control"] = cacheControl;
  if (req.header("if-none-match") == etag) {
    r.status = 304;
    r.contentType = f.contentType;
    return r;
  }
  r.contentType = f.contentType;
  r.body = f.bytes;
  return r;
}

}  // namespace

UiResource::UiResource(ApiContext& ctx) : Resource(ctx) { (void)built(); }

std::vector<Route> UiResource::routes() {
  using R = UiResource;
  return {
      {.method = "GET", .pattern = "/", .isPublic = true, .handler = bind(&R::page)},
      {.method = "GET", .pattern = "/ui/{path*}", .isPublic = true, .handler = bind(&R::page)},
      {.method = "GET", .pattern = "/assets/{build}/{name}", .isPublic = true, .handler = bind(&R::asset)},
  };
}

HttpResponse UiResource::page(HttpRequest& req, Call&) {
  if (!built().present) {
    return HttpResponse::error(404, "ui_not_built", "this vigil was built without the web workbench (-DVIGIL_UI=OFF)");
  }
  return serve(req, built().page, "no-cache");
}

HttpResponse UiResource::asset(HttpRequest& req, Call&) {
  auto it = built().files.find(req.params["name"]);
  if (it == built().files.end() || req.params["build"] != built().id) {
    return HttpResponse::error(404, "not_found", "no such file in this version of the workbench; reload the page");
  }
  return serve(req, it->second, "public, max-age=31536000, immutable");
}

}  // namespace vigil::daemon

// Fuzzes the API server's HTTP/1.1 request framing (daemon/src/http/http_framing.h, the code
// HttpServer's sessions run): request line and headers as Beast parses them, the raw scan
// for the end of the header block and obs-fold, the duplicate and Transfer-Encoding /
// Content-Length checks, the header and body limits, chunked bodies and trailers, and the
// HttpRequest handed to a handler. The input is every byte a client sent on one connection
// before closing it; pipelined requests are framed one after another, as on a keep-alive
// connection.
//
// Besides the sanitizers, it checks what http_server.h promises of an accepted request, and
// that a request complete in the bytes is framed the same whether or not the peer closes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/http_framing.h"

namespace {

using vigil::daemon::FramingOutcome;

vigil::daemon::HttpLimits limits() {
  vigil::daemon::HttpLimits l;
  // Small enough that a 64 KiB input reaches both limits.
  l.maxHeaderBytes = 4096;
  l.maxBodyBytes = 16384;
  return l;
}

void require(bool holds) {
  if (!holds) std::abort();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

// What http_server.h says of every request a handler is given.
void checkAccepted(const FramingOutcome& o, size_t offered, const vigil::daemon::HttpLimits& l) {
  require(o.consumed > 0 && o.consumed <= offered);
  const auto& r = o.request.request;
  require(!r.method.empty());
  require(r.body.size() <= l.maxBodyBytes);
  require(r.path.size() <= r.target.size());
  const auto te = r.headers.find("transfer-encoding");
  const auto cl = r.headers.find("content-length");
  if (te != r.headers.end()) {
    require(iequals(te->second, "chunked"));
    require(cl == r.headers.end());
  }
  if (cl != r.headers.end()) {
    require(!cl->second.empty() && cl->second.find_first_not_of("0123456789") == std::string::npos);
    require(std::stoull(cl->second) == r.body.size());
  }
  for (const auto& [name, value] : r.headers) {
    for (char c : name) require(!(c >= 'A' && c <= 'Z'));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const vigil::daemon::HttpLimits l = limits();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // The first request, with the connection left open: it must frame as it does when the
  // peer closes right after the same bytes, unless it was still waiting for more.
  const FramingOutcome open = vigil::daemon::frameRequest(bytes, l, false);
  require(open.kind != FramingOutcome::Kind::kClosed);

  for (int served = 0; served < 64; ++served) {
    FramingOutcome o = vigil::daemon::frameRequest(bytes, l, true);
    require(o.kind != FramingOutcome::Kind::kNeedMore);
    if (served == 0 && open.kind != FramingOutcome::Kind::kNeedMore) {
      require(open.kind == o.kind);
      require(open.consumed == o.consumed);
      if (o.refusal) require(open.refusal && open.refusal->response.status == o.refusal->response.status);
    }
    if (o.kind == FramingOutcome::Kind::kRefused) {
      const int status = o.refusal->response.status;
      require(status == 400 || status == 413 || status == 431);
      break;
    }
    if (o.kind != FramingOutcome::Kind::kRequest) break;
    checkAccepted(o, bytes.size(), l);
    if (!o.request.keepAlive) break;
    bytes.remove_prefix(o.consumed);
    if (bytes.empty()) break;
  }
  return 0;
}

// The server's request framing over a buffer. HttpServer's sessions and frameRequest() take
// the same steps; frameRequest() only puts a stream over bytes in memory in place of a socket.
#include "http/http_framing.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <iterator>

#include <boost/asio/error.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

namespace vigil::daemon {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

using Request = http::request<http::string_body>;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

FramingRefusal badRequest(const std::string& problem) {
  return {HttpResponse::error(400, "bad_request", "malformed HTTP request: " + problem), problem};
}

// Why a parsed header block is refused, or empty. Beast settles the rest: Content-Length
// after `Transfer-Encoding: chunked` and the reverse, two differing Content-Lengths.
std::string framingProblem(const Request& req) {
  // Headers that decide who asks, how much is read, or why: a second copy would let two
  // readers of the same bytes disagree.
  static constexpr std::array<const char*, 7> kOnce = {"Authorization",   "Content-Length",    "Content-Type",   "Host",
                                                       "Idempotency-Key", "Transfer-Encoding", "X-Vigil-Purpose"};
  std::array<int, kOnce.size()> seen{};
  for (const auto& f : req) {
    for (size_t i = 0; i < kOnce.size(); ++i) {
      if (beast::iequals(f.name_string(), kOnce[i]) && ++seen[i] > 1) {
        return "header " + std::string(kOnce[i]) + " given more than once";
      }
    }
  }
  auto te = req.find(http::field::transfer_encoding);
  auto cl = req.find(http::field::content_length);
  if (te != req.end() && !beast::iequals(te->value(), "chunked")) {
    return "Transfer-Encoding other than chunked is not supported";
  }
  if (te != req.end() && cl != req.end()) return "both Transfer-Encoding and Content-Length";
  if (cl != req.end()) {
    const auto v = cl->value();
    if (v.empty() || v.find_first_not_of("0123456789") != beast::string_view::npos) return "Content-Length is not one number";
  }
  return {};
}

// A SyncReadStream over bytes in memory, read as a socket would be: as much as fits in each
// read, then end of stream (the peer closed) or would_block (more may come).
class MemoryStream {
 public:
  MemoryStream(std::string_view bytes, bool closed) : bytes_(bytes), closed_(closed) {}

  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    ec = {};
    if (bytes_.empty()) {
      ec = closed_ ? net::error::make_error_code(net::error::eof) : net::error::make_error_code(net::error::would_block);
      return 0;
    }
    size_t n = 0;
    for (auto it = net::buffer_sequence_begin(buffers); it != net::buffer_sequence_end(buffers) && !bytes_.empty(); ++it) {
      const net::mutable_buffer b = *it;
      const size_t k = std::min(b.size(), bytes_.size());
      std::memcpy(b.data(), bytes_.data(), k);
      bytes_.remove_prefix(k);
      n += k;
    }
    return n;
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  size_t left() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
  bool closed_;
};

}  // namespace

FramingRefusal unreadableRequest(const boost::system::error_code& ec, const HttpLimits& limits) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return {HttpResponse::error(431, "headers_too_large", "request headers exceed " + std::to_string(limits.maxHeaderBytes) + " bytes"),
            ec.message()};
  }
  if (ec == http::error::body_limit) {
    return {HttpResponse::error(413, "body_too_large", "request body exceeds " + std::to_string(limits.maxBodyBytes) + " bytes"),
            ec.message()};
  }
  return badRequest(ec.message());
}

size_t readBufferBytes(const HttpLimits& limits) { return limits.maxHeaderBytes + 65536; }

RequestFramer::HeaderScan::Verdict RequestFramer::HeaderScan::feed(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    ++length_;
    if (c == '\n') {
      if (lineLength_ == 0) return Verdict::complete;
      lineLength_ = 0;
      atLineStart_ = true;
      firstLine_ = false;
      continue;
    }
    if (c == '\r') continue;  // a stray CR is Beast's to refuse
    if (atLineStart_ && !firstLine_ && (c == ' ' || c == '\t')) return Verdict::folded;
    atLineStart_ = false;
    ++lineLength_;
  }
  return Verdict::needMore;
}

RequestFramer::RequestFramer(const HttpLimits& limits) : limits_(limits) {
  parser_.header_limit(static_cast<std::uint32_t>(limits.maxHeaderBytes));
  parser_.body_limit(limits.maxBodyBytes);
  parser_.eager(false);
}

std::optional<FramingRefusal> RequestFramer::scanHeader(std::string_view buffered, bool* complete) {
  *complete = false;
  if (buffered.size() <= scan_.length()) return std::nullopt;
  const auto verdict = scan_.feed(buffered.data() + scan_.length(), buffered.size() - scan_.length());
  if (verdict == HeaderScan::Verdict::folded) {
    return FramingRefusal{HttpResponse::error(400, "bad_request", "malformed HTTP request: obs-fold (a header line continued on the next)"),
                          "obs-fold"};
  }
  if (scan_.length() > limits_.maxHeaderBytes) {
    return FramingRefusal{
        HttpResponse::error(431, "headers_too_large", "request headers exceed " + std::to_string(limits_.maxHeaderBytes) + " bytes"),
        "header block too large"};
  }
  *complete = verdict == HeaderScan::Verdict::complete;
  return std::nullopt;
}

std::optional<FramingRefusal> RequestFramer::parseHeader(beast::flat_buffer& buffer) {
  beast::error_code ec;
  while (!parser_.is_header_done()) {
    const size_t used = parser_.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) ec = {};
    if (ec || used == 0) break;
  }
  if (ec) return unreadableRequest(ec, limits_);
  if (!parser_.is_header_done()) {
    // HeaderScan saw a blank line where Beast sees none (a bare LF among CRLFs).
    return FramingRefusal{HttpResponse::error(400, "bad_request", "malformed HTTP request: bad line ending"), "bad line ending"};
  }
  const std::string problem = framingProblem(parser_.get());
  if (!problem.empty()) return badRequest(problem);
  headerFields_ = static_cast<size_t>(std::distance(parser_.get().begin(), parser_.get().end()));
  return std::nullopt;
}

std::optional<FramingRefusal> RequestFramer::finish(Framed* out) {
  auto& req = parser_.get();
  if (static_cast<size_t>(std::distance(req.begin(), req.end())) != headerFields_) {
    // Beast adds trailer fields to the headers; refusing them is the one way to be
    // sure none is taken for a header (an Authorization sent after the body, say).
    return FramingRefusal{HttpResponse::error(400, "bad_request", "malformed HTTP request: trailer fields are not accepted"),
                          "trailer fields"};
  }
  HttpRequest& r = out->request;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) {
    std::string_view qs = std::string_view(r.target).substr(q + 1);
    size_t pos = 0;
    while (pos <= qs.size()) {
      size_t amp = qs.find('&', pos);
      std::string_view pair = qs.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
      size_t eq = pair.find('=');
      if (!pair.empty()) r.query[percentDecode(pair.substr(0, eq), true)] = eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1), true);
      if (amp == std::string_view::npos) break;
      pos = amp + 1;
    }
  }
  for (const auto& f : req) r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
  r.body = std::move(req.body());
  out->keepAlive = req.keep_alive();
  return std::nullopt;
}

FramingOutcome frameRequest(std::string_view bytes, const HttpLimits& limits, bool peerClosed) {
  FramingOutcome out;
  MemoryStream in(bytes, peerClosed);
  beast::flat_buffer buffer(readBufferBytes(limits));
  RequestFramer framer(limits);
  auto refused = [&out](FramingRefusal r) {
    out.kind = FramingOutcome::Kind::kRefused;
    out.refusal = std::move(r);
    return out;
  };
  // The header block, gathered raw as a session gathers it.
  for (bool complete = false; !complete;) {
    if (auto r = framer.scanHeader(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()), &complete)) {
      return refused(std::move(*r));
    }
    if (complete) break;
    const size_t room = beast::read_size(buffer, 65536);
    if (room == 0) return refused(unreadableRequest(http::error::buffer_overflow, limits));
    beast::error_code ec;
    buffer.commit(in.read_some(buffer.prepare(room), ec));
    if (ec) {
      out.kind = ec == net::error::would_block ? FramingOutcome::Kind::kNeedMore : FramingOutcome::Kind::kClosed;
      return out;
    }
  }
  if (auto r = framer.parseHeader(buffer)) return refused(std::move(*r));
  // The body, by the loop Beast's async_read runs for a session.
  beast::error_code ec;
  http::read(in, buffer, framer.parser(), ec);
  if (ec == net::error::would_block) {
    out.kind = FramingOutcome::Kind::kNeedMore;
    return out;
  }
  if (ec == http::error::end_of_stream || ec == net::error::eof) {
    out.kind = FramingOutcome::Kind::kClosed;
    return out;
  }
  if (ec) return refused(unreadableRequest(ec, limits));
  if (auto r = framer.finish(&out.request)) return refused(std::move(*r));
  out.kind = FramingOutcome::Kind::kRequest;
  out.consumed = bytes.size() - in.left() - buffer.size();
  return out;
}

}  // namespace vigil::daemon

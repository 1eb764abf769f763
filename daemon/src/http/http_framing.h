// HTTP/1.1 request framing: every decision HttpServer takes about a request's bytes (where
// its header block ends, obs-fold, the header checks of http_server.h, the limits, chunked
// trailers, and the HttpRequest it hands to a handler), as code over a buffer with no socket.
//
// HttpServer reads a request in three steps with one RequestFramer: scanHeader() on the raw
// bytes until the header block is complete, parseHeader() once it is, then Beast reads the
// body into parser() and finish() turns the result into an HttpRequest. frameRequest() takes
// the same steps over bytes already in memory, so the fuzz target and tests drive the
// server's own framing. Nothing here does I/O or logs; thread-compatible (one framer per
// request, used by one thread at a time).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/http_server.h"
#include "http/http_types.h"

namespace vigil::daemon {

// A request refused before any handler saw it: the answer to send (the connection is then
// closed), and why, for the log (never the request's content).
struct FramingRefusal {
  HttpResponse response;
  std::string why;
};

// The answer to a Beast parse or read error: 431 for an oversized header block, 413 for an
// oversized body, 400 `bad_request` for anything else.
FramingRefusal unreadableRequest(const boost::system::error_code& ec, const HttpLimits& limits);

// Bytes the server may buffer for one connection: a whole header block plus a read.
size_t readBufferBytes(const HttpLimits& limits);

// One request's framing, from its first byte to the HttpRequest.
class RequestFramer {
 public:
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  explicit RequestFramer(const HttpLimits& limits);

  // Looks for the end of the header block in `buffered`: every byte buffered so far, from
  // the request's first (call again with more; bytes already looked at are skipped). Sets
  // *complete when the block ended. A refusal for an obs-folded line or a block over
  // maxHeaderBytes; nullopt otherwise.
  std::optional<FramingRefusal> scanHeader(std::string_view buffered, bool* complete);
  size_t scanned() const { return scan_.length(); }  // bytes scanHeader() has looked at

  // After scanHeader() said complete: parses the header block from the front of `buffer`
  // (consuming it) and checks it. A refusal for a malformed or ambiguous block; nullopt
  // when the body may be read into parser().
  std::optional<FramingRefusal> parseHeader(boost::beast::flat_buffer& buffer);

  Parser& parser() { return parser_; }

  struct Framed {
    HttpRequest request;  // peer not set: the server takes it from the socket
    bool keepAlive = false;
  };
  // After the whole body was read into parser() without error: the request, or a refusal
  // (trailer fields after a chunked body).
  std::optional<FramingRefusal> finish(Framed* out);

 private:
  // Finds the end of the header block in the raw bytes, before Beast sees them, and spots
  // obs-fold there: Beast joins a continued line into one value, after which a folded
  // `Authorization` cannot be told from a plain one.
  class HeaderScan {
   public:
    enum class Verdict { needMore, complete, folded };
    Verdict feed(const char* p, size_t n);
    size_t length() const { return length_; }  // bytes fed so far

   private:
    size_t length_ = 0;
    size_t lineLength_ = 0;
    bool atLineStart_ = true;
    bool firstLine_ = true;
  };

  HttpLimits limits_;
  Parser parser_;
  HeaderScan scan_;
  size_t headerFields_ = 0;  // fields in the header block; more after the body are trailers
};

// What the server makes of `bytes` arriving at once at the start of a request: a request
// for a handler, a refusal, or neither yet. With `peerClosed`, the bytes are all there will
// be (the peer shut its side after them); otherwise more may follow.
struct FramingOutcome {
  enum class Kind {
    kRequest,   // `request` goes to a handler; `consumed` bytes of `bytes` were its
    kRefused,   // `refusal` is answered and the connection closed
    kNeedMore,  // the request is not complete yet: the server waits for more
    kClosed,    // the peer closed before a whole header block: closed without an answer
  };
  Kind kind = Kind::kNeedMore;
  RequestFramer::Framed request;
  std::optional<FramingRefusal> refusal;
  size_t consumed = 0;
};
FramingOutcome frameRequest(std::string_view bytes, const HttpLimits& limits, bool peerClosed);

}  // namespace vigil::daemon

#pragma once
// An incremental reader of multipart/form-data bodies (RFC 7578 over RFC 2046), for uploads
// streamed straight into a file: it holds at most one delimiter's worth of bytes besides the
// current part's headers, so memory stays flat however large the part.
// Hand-written: Boost 1.81 has no multipart parser, and none of Debian's C++ libraries offers
// an incremental one that hands out part bytes without buffering the part.
//
// Usage: feed() what arrived, then call next() until it answers need_input:
//   MultipartReader reader(*boundary_of(content_type));
//   reader.feed(bytes);
//   for (auto step = reader.next(); step.kind != Step::need_input; step = reader.next()) ...
// Thread-safety: none; one reader per request.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace portico::http {

// The boundary parameter of a multipart/form-data Content-Type, or nullopt when the type is not
// multipart/form-data or has no valid boundary (1..70 characters, RFC 2046).
std::optional<std::string> multipart_boundary(std::string_view content_type);

struct PartHeaders {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // Content-Disposition filename (filename* preferred), decoded
  std::string content_type;
};

class MultipartReader {
 public:
  struct Step {
    enum Kind {
      need_input,  // feed more bytes (or the body ended early: call finish_input())
      part,        // a new part begins: headers
      bytes,       // bytes of the current part, in data (valid until the next feed() or next())
      part_end,    // the current part is complete
      end,         // the closing delimiter: the body is complete
    } kind = need_input;
    std::string_view data;
    PartHeaders headers;
  };

  explicit MultipartReader(std::string boundary, std::size_t max_header_bytes = 16 * 1024);

  void feed(std::string_view bytes);
  // Returns the next step. Throws core::Failure(bad_request) on a malformed body: no opening
  // delimiter, part headers over the limit or without a form-data Content-Disposition, or
  // input ended before the closing delimiter (after finish_input()).
  Step next();
  // The body has no more bytes: the next need_input becomes an error instead.
  void finish_input() { input_ended_ = true; }
  bool done() const { return state_ == State::done; }

 private:
  enum class State { preamble, after_delimiter, headers, body, done };
  std::string_view pending() const { return std::string_view(buffer_).substr(head_); }
  void consume(std::size_t n);
  Step need_more();

  std::string delimiter_;  // "\r\n--" + boundary
  std::size_t max_header_bytes_;
  std::string buffer_;
  std::size_t head_ = 0;
  State state_ = State::preamble;
  bool input_ended_ = false;
};

// Decodes one Content-Disposition header value's parameters (RFC 6266 / 7578): quoted strings
// with backslash escapes, the WHATWG form encoding of `"` and control characters (%22, %0A...)
// that browsers, httpx and urllib3 use, and RFC 5987 `filename*=UTF-8''percent%20encoded` (which
// carries any bytes, so it wins over filename). Exposed for tests.
PartHeaders parse_content_disposition(std::string_view value);

}  // namespace portico::http

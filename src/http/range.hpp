#pragma once
// The Range request header (RFC 9110 section 14), for downloads that resume or fetch a slice.
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

namespace portico::http {

struct RangeAnswer {
  enum Kind {
    whole,          // no usable Range: answer 200 with the whole body
    partial,        // answer 206 with bytes [first, first + length) and Content-Range
    unsatisfiable,  // answer 416 with Content-Range: bytes */size
  } kind = whole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// Resolves one Range header against a body of `size` bytes. Only a single "bytes" range is
// honoured ("a-b", "a-", "-n"); several ranges, other units or a malformed header are ignored,
// as the RFC allows, and the whole body is sent. A range that starts past the end (or a suffix
// of zero bytes) is unsatisfiable; an end past the end is clipped.
RangeAnswer resolve_range(std::string_view header, std::uint64_t size);

// "bytes first-last/size" for a partial answer, "bytes */size" for an unsatisfiable one.
std::string content_range(const RangeAnswer& answer, std::uint64_t size);

}  // namespace portico::http

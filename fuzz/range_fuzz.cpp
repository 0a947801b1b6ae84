// The Range header of a download (http/range.hpp) against a body size.
// Input: 8 bytes of size (little endian; the first byte also picks a small size, where edge
// cases are), then the header value.
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/range.hpp"

using portico::http::RangeAnswer;

namespace {

std::uint64_t size_of(const std::uint8_t* data) {
  std::uint64_t size;
  std::memcpy(&size, data, sizeof size);
  // Half the inputs get a size below 256, where "past the end" and "empty body" are reached.
  return (data[0] & 1) ? size : (size >> 8) & 0xff;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) return 0;
  const std::uint64_t body = size_of(data);
  const std::string_view header(reinterpret_cast<const char*>(data + 8), size - 8);

  const auto answer = portico::http::resolve_range(header, body);
  switch (answer.kind) {
    case RangeAnswer::partial: {
      // A 206 sends bytes that exist, at least one.
      FUZZ_CHECK(answer.length >= 1);
      FUZZ_CHECK(answer.first < body);
      FUZZ_CHECK(answer.length <= body - answer.first);
      const auto text = portico::http::content_range(answer, body);
      const auto expected = "bytes " + std::to_string(answer.first) + "-" +
                            std::to_string(answer.first + answer.length - 1) + "/" + std::to_string(body);
      FUZZ_CHECK(text == expected);
      // The answer written back as a plain range resolves to itself.
      const auto canonical = portico::http::resolve_range(
          "bytes=" + std::to_string(answer.first) + "-" + std::to_string(answer.first + answer.length - 1), body);
      FUZZ_CHECK(canonical.kind == RangeAnswer::partial && canonical.first == answer.first &&
                 canonical.length == answer.length);
      break;
    }
    case RangeAnswer::unsatisfiable:
      FUZZ_CHECK(portico::http::content_range(answer, body) == "bytes */" + std::to_string(body));
      break;
    case RangeAnswer::whole:
      break;
  }
  // The answer depends on the header and the size only.
  const auto again = portico::http::resolve_range(header, body);
  FUZZ_CHECK(again.kind == answer.kind && again.first == answer.first && again.length == answer.length);
  return 0;
}

// S3's XML answers (s3/xml.hpp): the <Error> document and InitiateMultipartUpload's UploadId,
// from the storage service, and the escaping of what Portico writes into its bodies.
// Input: one byte choosing the reader, then the body.
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "s3/xml.hpp"

namespace xml = portico::s3::xml;
using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: refused_or_ran(ErrorKind::internal, [&] { xml::read_error(body); }); break;
    case 1: refused_or_ran(ErrorKind::internal, [&] { FUZZ_CHECK(!xml::read_upload_id(body).empty()); }); break;
    case 2: {
      // Escaped text holds no markup, and a document carrying it reads back as the text.
      const auto escaped = xml::escape(body);
      FUZZ_CHECK(escaped.find_first_of("<>") == std::string::npos);
      // (XML carries no control characters; a NUL would end the parser's text.)
      for (unsigned char c : body)
        if (c < 0x20) return 0;
      refused_or_ran(ErrorKind::internal, [&] {
        const auto id = xml::read_upload_id("<InitiateMultipartUploadResult><UploadId>" + escaped +
                                            "</UploadId></InitiateMultipartUploadResult>");
        auto text = body;  // read trimmed, as S3's values are
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
        while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
        FUZZ_CHECK(id == text);
      });
      break;
    }
  }
  return 0;
}

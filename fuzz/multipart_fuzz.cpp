// The multipart/form-data reader of uploads (http/multipart.hpp).
// Input: one byte that picks how the body is cut into reads and the part-header limit, then a
// Content-Type value up to the first '\n', then the body. The body is read twice, at once and in
// small pieces: both readings must give the same parts, bytes and outcome, since a client's TCP
// segments decide where reads end.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http/multipart.hpp"

using portico::http::MultipartReader;
using Step = MultipartReader::Step;

namespace {

struct Reading {
  std::vector<std::string> events;  // one per step; bytes steps of a part joined into one
  std::string error;                // what the reader threw, if it did
};

void add_bytes(Reading& r, std::string_view data) {
  if (r.events.empty() || r.events.back().rfind("bytes:", 0) != 0) r.events.emplace_back("bytes:");
  r.events.back().append(data);
}

// Feeds `body` in pieces whose sizes `cut` gives (0: all at once), calling next() until each
// piece is used up, as the upload route does.
Reading read(const std::string& boundary, std::string_view body, std::size_t max_header, unsigned cut) {
  Reading r;
  MultipartReader reader(boundary, max_header);
  std::size_t at = 0;
  unsigned state = cut;
  try {
    for (;;) {
      for (auto step = reader.next(); step.kind != Step::need_input; step = reader.next()) {
        FUZZ_CHECK(step.kind != Step::bytes || !step.data.empty());
        if (step.kind == Step::bytes) {
          add_bytes(r, step.data);
        } else if (step.kind == Step::part) {
          const auto& h = step.headers;
          r.events.push_back("part:" + h.name + "\n" + (h.filename ? "f:" + *h.filename : "-") + "\n" + h.content_type);
        } else if (step.kind == Step::part_end) {
          r.events.emplace_back("part_end");
        } else {
          FUZZ_CHECK(reader.done());
          r.events.emplace_back("end");
          return r;
        }
      }
      if (at == body.size()) {
        reader.finish_input();
        continue;
      }
      std::size_t n = body.size() - at;
      if (cut != 0) {
        state = state * 1103515245u + 12345u;
        n = std::min<std::size_t>(n, 1 + (state >> 16) % 97);
      }
      reader.feed(body.substr(at, n));
      at += n;
    }
  } catch (const portico::core::Failure& f) {
    FUZZ_CHECK(f.kind() == portico::core::ErrorKind::bad_request);
    r.error = f.what();
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned cut = data[0] | 1u;
  const std::size_t max_header = (data[0] & 0x80) ? 64 : 16 * 1024;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto eol = rest.find('\n');
  const std::string_view content_type = rest.substr(0, eol);
  const std::string_view body = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);

  const auto boundary = portico::http::multipart_boundary(content_type);
  if (boundary) {
    FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);
    for (unsigned char c : *boundary) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  }
  // The same line as a part's Content-Disposition value.
  portico::fuzz::refused_or_ran(portico::core::ErrorKind::bad_request,
                                [&] { portico::http::parse_content_disposition(content_type); });

  const std::string b = boundary ? *boundary : "portico-fuzz-boundary";
  const auto whole = read(b, body, max_header, 0);
  const auto pieces = read(b, body, max_header, cut);
  FUZZ_CHECK(whole.events == pieces.events);
  FUZZ_CHECK(whole.error == pieces.error);
  return 0;
}

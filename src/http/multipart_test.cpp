#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

using portico::core::Failure;
using portico::http::multipart_boundary;
using portico::http::MultipartReader;
using portico::http::parse_content_disposition;
using Step = MultipartReader::Step;

namespace {

struct Part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string data;
};

// Feeds `body` in pieces of `piece` bytes and collects the parts.
std::vector<Part> read_all(const std::string& boundary, const std::string& body, std::size_t piece) {
  MultipartReader reader(boundary);
  std::vector<Part> parts;
  std::size_t at = 0;
  for (;;) {
    auto step = reader.next();
    switch (step.kind) {
      case Step::need_input:
        if (at >= body.size()) {
          reader.finish_input();
        } else {
          reader.feed(std::string_view(body).substr(at, piece));
          at += piece;
        }
        break;
      case Step::part:
        parts.push_back({step.headers.name, step.headers.filename, step.headers.content_type, ""});
        break;
      case Step::bytes:
        parts.back().data.append(step.data);
        break;
      case Step::part_end:
        break;
      case Step::end:
        return parts;
    }
  }
}

// What Python's requests/urllib3 sends for files={"file": (name, data)} (captured from
// requests.Request(...).prepare().body with a fixed boundary).
std::string urllib3_body(const std::string& boundary, const std::string& filename, const std::string& data) {
  return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
         "\"\r\n\r\n" + data + "\r\n--" + boundary + "--\r\n";
}

}  // namespace

TEST(MultipartBoundary, FromContentType) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x"), "x");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=x"), std::nullopt);
  EXPECT_EQ(multipart_boundary("application/json"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary="), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')), std::nullopt);
}

TEST(Multipart, ReadsOneFileInAnyPieces) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += static_cast<char>(i * 7);  // binary, with CR, LF, NUL and dashes
  data += "\r\n--bound";  // a delimiter prefix inside the data
  const auto body = urllib3_body("bound4e3", "a b.bin", data);
  for (std::size_t piece : {1u, 2u, 7u, 13u, 64u, 4096u, 100000u}) {
    auto parts = read_all("bound4e3", body, piece);
    ASSERT_EQ(parts.size(), 1u) << piece;
    EXPECT_EQ(parts[0].name, "file");
    EXPECT_EQ(parts[0].filename, "a b.bin");
    EXPECT_EQ(parts[0].data, data) << piece;
  }
}

TEST(Multipart, SeveralPartsPreambleAndEpilogue) {
  const std::string body =
      "preamble text\r\n--XyZ\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/home/alice\r\n"
      "--XyZ  \r\ncontent-disposition: form-data; name=file; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\n"
      "\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n--XyZ--\r\nepilogue";
  auto parts = read_all("XyZ", body, 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].name, "path");
  EXPECT_EQ(parts[0].filename, std::nullopt);
  EXPECT_EQ(parts[0].data, "/home/alice");
  EXPECT_EQ(parts[1].filename, "x.txt");
  EXPECT_EQ(parts[1].content_type, "text/plain");
  EXPECT_EQ(parts[1].data, "\r\n");  // the part's own bytes, up to the CRLF before the delimiter
  EXPECT_EQ(parts[2].data, "");
}

TEST(Multipart, MalformedBodiesAreBadRequests) {
  // No closing delimiter.
  EXPECT_THROW(read_all("b", "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc", 5), Failure);
  // No Content-Disposition.
  EXPECT_THROW(read_all("b", "--b\r\nContent-Type: x\r\n\r\nabc\r\n--b--", 5), Failure);
  // Not form-data.
  EXPECT_THROW(read_all("b", "--b\r\nContent-Disposition: attachment\r\n\r\nabc\r\n--b--", 5), Failure);
  // Garbage after the delimiter.
  EXPECT_THROW(read_all("b", "--bX\r\n\r\n", 5), Failure);
  // Empty body.
  EXPECT_THROW(read_all("b", "", 5), Failure);
  // Endless headers.
  MultipartReader reader("b", 100);
  reader.feed("--b\r\nContent-Disposition: form-data; name=\"" + std::string(200, 'x'));
  EXPECT_THROW(reader.next(), Failure);
}

TEST(ContentDisposition, FileNamesAsClientsEncodeThem) {
  // What httpx and urllib3 1.x send for 'a "q" \nline\\x $(id) `b` 100%.txt' (captured from
  // requests.Request(files=...).prepare().body): `"` and controls percent-encoded, `\` doubled.
  auto h = parse_content_disposition(R"(form-data; name="file"; filename="a %22q%22 %0Aline\\x $(id) `b` 100%.txt")");
  EXPECT_EQ(h.filename, "a \"q\" \nline\\x $(id) `b` 100%.txt");
  EXPECT_EQ(parse_content_disposition(R"(form-data; name="f"; filename="%41%7f%0")").filename, "%41%7f%0");
  // RFC 5987 wins and carries any byte, non-UTF-8 included.
  h = parse_content_disposition("form-data; name=\"file\"; filename=\"fallback\"; filename*=UTF-8''caf%C3%A9%FF%0A");
  EXPECT_EQ(h.filename, "caf\xc3\xa9\xff\n");
  // Raw bytes in the quoted string are kept.
  h = parse_content_disposition("form-data; name=\"file\"; filename=\"\xff\xfe.bin\"");
  EXPECT_EQ(h.filename, "\xff\xfe.bin");
  EXPECT_EQ(parse_content_disposition("form-data; name=file").filename, std::nullopt);
  EXPECT_THROW(parse_content_disposition("form-data; name=\"file"), Failure);
  EXPECT_THROW(parse_content_disposition("form-data; name=\"f\"; filename*=bad%zz"), Failure);
}

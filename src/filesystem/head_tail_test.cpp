#include "filesystem/head_tail.hpp"

#include "core/error.hpp"
#include "filesystem/test_support.hpp"

#include <gtest/gtest.h>

using namespace portico::filesystem;
using namespace portico::filesystem::fstest;
using portico::core::ErrorKind;

namespace {

HeadTailRequest req(bool head, bool skip, HeadTailCount::Unit unit, std::int64_t n) {
  HeadTailRequest r;
  r.head = head;
  r.skip = skip;
  r.count.unit = unit;
  r.count.count = n;
  return r;
}

constexpr auto bytes = HeadTailCount::Unit::bytes;
constexpr auto lines = HeadTailCount::Unit::lines;

// Runs the real command on `path` as the remote side would, and parses its output.
FilePart read_part(const std::string& path, const HeadTailRequest& r, std::int64_t max = 1 << 20) {
  auto out = run(head_tail_command(path, r, max));
  EXPECT_EQ(out.status, 0);
  return parse_head_tail_output(out.out, r, max);
}

}  // namespace

TEST(HeadTailCommand, IsAFixedScriptWithValuesAsArguments) {
  auto argv = head_tail_command("/home/a/-x y", req(false, true, lines, 3), 100);
  ASSERT_EQ(argv.size(), 10u);
  EXPECT_EQ(argv[2], "bash");
  EXPECT_EQ(argv[6], "101");
  EXPECT_EQ(argv[7], "-n");
  EXPECT_EQ(argv[8], "+3");
  EXPECT_EQ(argv[9], "/home/a/-x y");
  EXPECT_EQ(head_tail_command("/p", req(true, true, bytes, 7), 100)[8], "-7");
}

TEST(HeadTail, ByteExactOnBinaryContent) {
  TempDir dir;
  std::string content("a\0b\xff\xfe\n\0\0line\nend", 16);
  std::string path = dir.path() + "/-bin $x";
  write_file(path, content);
  auto size = static_cast<std::int64_t>(content.size());

  auto p = read_part(path, req(true, false, bytes, 5));
  EXPECT_EQ(p.content, content.substr(0, 5));
  EXPECT_EQ(p.start, 0);
  EXPECT_EQ(p.end, 5);

  p = read_part(path, req(true, true, bytes, 4));  // all but the last 4
  EXPECT_EQ(p.content, content.substr(0, size - 4));
  EXPECT_EQ(p.end, size - 4);

  p = read_part(path, req(false, false, bytes, 6));
  EXPECT_EQ(p.content, content.substr(size - 6));
  EXPECT_EQ(p.start, size - 6);
  EXPECT_EQ(p.end, size);

  p = read_part(path, req(false, true, bytes, 3));  // from the 3rd byte on
  EXPECT_EQ(p.content, content.substr(2));
  EXPECT_EQ(p.start, 2);
  EXPECT_EQ(p.end, size);

  p = read_part(path, req(false, false, bytes, 1000));  // more than the file: all of it
  EXPECT_EQ(p.content, content);
  EXPECT_EQ(p.start, 0);
  EXPECT_EQ(p.end, size);

  p = read_part(path, req(false, false, lines, 1));
  EXPECT_EQ(p.content, "end");
  EXPECT_EQ(p.start, size - 3);

  p = read_part(path, req(true, false, lines, 1));
  EXPECT_EQ(p.content, content.substr(0, 6));
  EXPECT_EQ(p.end, 6);
}

TEST(HeadTail, OutputOverTheCapIsTooLargeAndCutRemotely) {
  TempDir dir;
  std::string path = dir.path() + "/nolines";
  write_file(path, std::string(5000, '\0'));
  for (bool head : {true, false}) {
    auto r = req(head, false, lines, 10);
    auto out = run(head_tail_command(path, r, 100));
    // The status is SIGPIPE's (141) when head or tail was still writing, 0 when the pipe took it all.
    EXPECT_TRUE(out.status == 0 || out.status == 141) << out.status;
    EXPECT_TRUE(head_tail_cut(out.out, r, 100));
    EXPECT_LE(out.out.size(), 101u + (head ? 0 : 5));
    try {
      parse_head_tail_output(out.out, r, 100);
      ADD_FAILURE() << "accepted output over the cap";
    } catch (const portico::core::Failure& f) {
      EXPECT_EQ(f.kind(), ErrorKind::too_large);
    }
  }
  // Exactly at the cap is fine.
  auto r = req(true, false, bytes, 100);
  auto out = run(head_tail_command(path, r, 100));
  EXPECT_EQ(out.status, 0);
  EXPECT_FALSE(head_tail_cut(out.out, r, 100));
  EXPECT_EQ(parse_head_tail_output(out.out, r, 100).end, 100);
}

TEST(HeadTail, ASmallPartOfABigSparseFileIsRead) {
  TempDir dir;
  std::string path = dir.path() + "/sparse";
  ASSERT_EQ(run({"truncate", "-s", "3G", path}).status, 0);
  ASSERT_EQ(run({"sh", "-c", "printf END >> \"$1\"", "sh", path}).status, 0);
  const std::int64_t size = 3LL * 1024 * 1024 * 1024 + 3;
  auto p = read_part(path, req(false, false, bytes, 10));
  EXPECT_EQ(p.content, std::string(7, '\0') + "END");
  EXPECT_EQ(p.start, size - 10);
  EXPECT_EQ(p.end, size);
  p = read_part(path, req(true, false, bytes, 4));
  EXPECT_EQ(p.content, std::string(4, '\0'));
}

TEST(HeadTail, AMissingOrMalformedSizeLineIsAnInternalError) {
  for (const char* out : {"", "abc\ndata", "-1\n", "12"}) {
    try {
      parse_head_tail_output(out, req(false, false, bytes, 1), 100);
      ADD_FAILURE() << "accepted " << out;
    } catch (const portico::core::Failure& f) {
      EXPECT_EQ(f.kind(), ErrorKind::internal);
    }
  }
}

TEST(HeadTail, TheByteRangeOfAFileIsWhatHeadAndTailPrint) {
  // Every count in bytes against the real head and tail, on sizes around the count.
  TempDir dir;
  for (std::int64_t size : {0, 1, 2, 7, 64}) {
    std::string content;
    for (std::int64_t i = 0; i < size; ++i) content += static_cast<char>('a' + i % 26);
    std::string path = dir.path() + "/f" + std::to_string(size);
    write_file(path, content);
    for (bool head : {true, false})
      for (bool skip : {false, true})
        for (std::int64_t n : {0, 1, 2, 6, 7, 8, 63, 64, 65, 1000}) {
          auto r = req(head, skip, bytes, n);
          auto expected = read_part(path, r);
          auto range = byte_range(size, r);
          EXPECT_EQ(content.substr(range.start, range.end - range.start), expected.content)
              << "size " << size << (head ? " head" : " tail") << (skip ? " skip " : " ") << n;
          EXPECT_EQ(range.start, expected.start) << "size " << size << (head ? " head" : " tail") << (skip ? " skip " : " ") << n;
          EXPECT_EQ(range.end, expected.end) << "size " << size << (head ? " head" : " tail") << (skip ? " skip " : " ") << n;
        }
  }
}

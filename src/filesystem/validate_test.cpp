#include "filesystem/validate.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>

using namespace portico::filesystem;
using portico::core::ErrorKind;
using portico::core::Failure;

namespace {

Failure refusal_of(auto&& call) {
  try {
    call();
  } catch (const Failure& e) {
    return e;
  }
  ADD_FAILURE() << "no Failure thrown";
  return Failure(ErrorKind::internal, "none");
}

}  // namespace

TEST(ChmodMode, AcceptsOctalAndSymbolicModes) {
  for (std::string_view mode : {"755", "0644", "4755", "7", "0", "u+rwx,g-w", "a=r", "go=", "-w", "+x", "=",
                                "ug+rwX,o-rwx", "u=g", "a+t", "u+s,g+s", "u+rw-x", "o=u"}) {
    EXPECT_EQ(validate_chmod_mode(mode, "body", "mode"), mode);
  }
}

TEST(ChmodMode, RefusesAnythingElse) {
  for (std::string_view mode : {"", "8", "0799", "07555", "u", "u+rwx,", ",u+r", "u+rwz", "u+gw", "x+r", "755 ",
                                " 755", "u+r;id", "$(id)", "--reference=/etc/passwd", "0x1ed", "u+r\n"}) {
    auto f = refusal_of([&] { validate_chmod_mode(mode, "body", "mode"); });
    EXPECT_EQ(f.kind(), ErrorKind::validation) << mode;
    ASSERT_EQ(f.fields().size(), 1u);
    EXPECT_EQ(f.fields()[0].name, "mode");
    EXPECT_EQ(f.fields()[0].location, "body");
  }
}

TEST(Owner, AcceptsNamesAndIds) {
  EXPECT_EQ(validate_owner("alice", "body", "owner"), "alice");
  EXPECT_EQ(validate_owner("_svc-1", "body", "owner"), "_svc-1");
  EXPECT_EQ(validate_owner("0", "body", "owner"), "0");
  EXPECT_EQ(validate_owner("4294967294", "body", "owner"), "4294967294");
}

TEST(Owner, RefusesTheRest) {
  for (std::string_view bad : {"", "Alice", "a b", "alice:bob", "../x", "$(id)", "4294967295", "99999999999", "-1",
                               "+1", "-alice"}) {
    EXPECT_THROW(validate_owner(bad, "body", "owner"), Failure) << bad;
  }
}

TEST(ChownSpec, JoinsOwnerAndGroup) {
  EXPECT_EQ(chown_spec("alice", "hpcusers", "body", "owner", "group"), "alice:hpcusers");
  EXPECT_EQ(chown_spec("alice", "", "body", "owner", "group"), "alice");
  EXPECT_EQ(chown_spec("", "1001", "body", "owner", "group"), ":1001");
  auto none = refusal_of([] { chown_spec("", "", "body", "owner", "group"); });
  EXPECT_EQ(none.fields().at(0).name, "owner");
  auto bad_group = refusal_of([] { chown_spec("alice", "x y", "body", "owner", "group"); });
  EXPECT_EQ(bad_group.fields().at(0).name, "group");
}

TEST(Count, ParsesNonNegativeIntegers) {
  EXPECT_EQ(parse_count("0", "query", "bytes"), 0);
  EXPECT_EQ(parse_count("9223372036854775807", "query", "bytes"), INT64_MAX);
  for (std::string_view bad : {"", "-1", "+1", " 1", "1 ", "1.5", "0x10", "9223372036854775808", "1e3"}) {
    EXPECT_THROW(parse_count(bad, "query", "bytes"), Failure) << bad;
  }
}

TEST(HeadTail, BytesOrLinesNotBoth) {
  auto lines = parse_head_tail(std::nullopt, "20", "query", "bytes", "lines");
  EXPECT_EQ(lines.unit, HeadTailCount::Unit::lines);
  EXPECT_EQ(lines.count, 20);
  auto bytes = parse_head_tail("512", std::nullopt, "query", "bytes", "lines");
  EXPECT_EQ(bytes.unit, HeadTailCount::Unit::bytes);
  EXPECT_EQ(bytes.count, 512);
  auto neither = parse_head_tail(std::nullopt, std::nullopt, "query", "bytes", "lines");
  EXPECT_EQ(neither.unit, HeadTailCount::Unit::lines);
  EXPECT_EQ(neither.count, 10);

  auto both = refusal_of([] { parse_head_tail("1", "2", "query", "bytes", "lines"); });
  EXPECT_EQ(both.kind(), ErrorKind::validation);
  ASSERT_EQ(both.fields().size(), 2u);
  EXPECT_EQ(both.fields()[0].name, "bytes");
  EXPECT_EQ(both.fields()[1].name, "lines");
  auto negative = refusal_of([] { parse_head_tail(std::nullopt, "-5", "query", "bytes", "lines"); });
  EXPECT_EQ(negative.fields().at(0).name, "lines");
}

TEST(View, OffsetAndSize) {
  auto whole = parse_view_range(std::nullopt, std::nullopt, 1 << 20, "query", "offset", "size");
  EXPECT_EQ(whole.offset, 0);
  EXPECT_EQ(whole.size, 1 << 20);
  auto part = parse_view_range("100", "50", 1 << 20, "query", "offset", "size");
  EXPECT_EQ(part.offset, 100);
  EXPECT_EQ(part.size, 50);
  auto too_big = refusal_of([] { parse_view_range("0", "1048577", 1 << 20, "query", "offset", "size"); });
  EXPECT_EQ(too_big.fields().at(0).name, "size");
  auto bad_offset = refusal_of([] { parse_view_range("x", "1", 1 << 20, "query", "offset", "size"); });
  EXPECT_EQ(bad_offset.fields().at(0).name, "offset");
}

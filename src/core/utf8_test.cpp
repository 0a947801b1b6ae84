#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace portico::core {
namespace {

TEST(Utf8, WellFormedTextPassesThrough) {
  EXPECT_EQ(valid_utf8("plain"), "plain");
  EXPECT_EQ(valid_utf8("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80"), "gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(Utf8, EachMaximalBrokenSubpartBecomesOneReplacement) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(valid_utf8("a\xFF" "b"), "a" + fffd + "b");
  EXPECT_EQ(valid_utf8("\xE2\x82"), fffd);                    // a truncated 3-byte sequence: one
  EXPECT_EQ(valid_utf8("\xE2\x82" "A"), fffd + "A");
  EXPECT_EQ(valid_utf8("\xC0\xAF"), fffd + fffd);             // overlong: each byte
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), fffd + fffd + fffd);  // a surrogate: each byte (as Python)
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // over U+10FFFF
}

TEST(Utf8, JsonStringsAreEscapedAsBoostJsonDoes) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\t\x01\x7f/\xFF");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\x7f/\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace portico::core

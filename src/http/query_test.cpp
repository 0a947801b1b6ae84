#include "http/query.hpp"

#include <gtest/gtest.h>

using portico::http::percent_decode;
using portico::http::query_param;

TEST(Query, FindsAndDecodesParameters) {
  EXPECT_EQ(*query_param("allusers=false&account=", "allusers"), "false");
  EXPECT_EQ(*query_param("allusers=false&account=", "account"), "");
  EXPECT_FALSE(query_param("allusers=false&account=", "name"));
  EXPECT_FALSE(query_param("", "name"));
  EXPECT_EQ(*query_param("path=%2Fhome%2Falice%2Fa%20b+c&x=1", "path"), "/home/alice/a b c");
  EXPECT_EQ(*query_param("flag&x=1", "flag"), "");
  EXPECT_EQ(*query_param("a=1&a=2", "a"), "1");
  EXPECT_EQ(*query_param("p=%00x", "p"), std::string("\0x", 2));  // callers refuse NUL themselves
}

TEST(Query, KeepsMalformedEscapesLiterally) {
  EXPECT_EQ(percent_decode("%G1%4", false), "%G1%4");
  EXPECT_EQ(percent_decode("100%", false), "100%");
  EXPECT_EQ(percent_decode("%e2%82%ac", false), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
}

TEST(Query, ReadsOnlyItsOwnBytes) {
  std::string buffer = "account=abc&rest";
  // A view that ends before the rest of the buffer: nothing past it may be read.
  EXPECT_EQ(*query_param(std::string_view(buffer).substr(0, 11), "account"), "abc");
}

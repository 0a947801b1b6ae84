#include "http/range.hpp"

#include <gtest/gtest.h>

using portico::http::content_range;
using portico::http::RangeAnswer;
using portico::http::resolve_range;

TEST(Range, OneRangeOfEachForm) {
  auto r = resolve_range("bytes=0-99", 1000);
  EXPECT_EQ(r.kind, RangeAnswer::partial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 100u);
  EXPECT_EQ(content_range(r, 1000), "bytes 0-99/1000");

  r = resolve_range("bytes=900-", 1000);
  EXPECT_EQ(r.kind, RangeAnswer::partial);
  EXPECT_EQ(r.first, 900u);
  EXPECT_EQ(r.length, 100u);

  r = resolve_range("bytes=-10", 1000);
  EXPECT_EQ(r.kind, RangeAnswer::partial);
  EXPECT_EQ(r.first, 990u);
  EXPECT_EQ(r.length, 10u);
  EXPECT_EQ(content_range(r, 1000), "bytes 990-999/1000");
}

TEST(Range, ClipsAndRefuses) {
  auto r = resolve_range("bytes=500-5000", 1000);  // end past the end: clipped
  EXPECT_EQ(r.kind, RangeAnswer::partial);
  EXPECT_EQ(r.length, 500u);
  EXPECT_EQ(resolve_range("bytes=-5000", 1000).length, 1000u);  // suffix longer than the body
  EXPECT_EQ(resolve_range("bytes=1000-", 1000).kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(resolve_range("bytes=-0", 1000).kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(resolve_range("bytes=0-", 0).kind, RangeAnswer::unsatisfiable);
  EXPECT_EQ(content_range(resolve_range("bytes=2000-", 1000), 1000), "bytes */1000");
  // Beyond 4 GiB.
  r = resolve_range("bytes=5000000000-", 6000000000ull);
  EXPECT_EQ(r.first, 5000000000ull);
  EXPECT_EQ(r.length, 1000000000ull);
}

TEST(Range, IgnoresWhatItDoesNotHonour) {
  for (const char* h : {"", "bytes=", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=0-1,5-6", "bytes=--1",
                        "bytes=99999999999999999999-", "bytes 0-1", "bytes=1"})
    EXPECT_EQ(resolve_range(h, 100).kind, RangeAnswer::whole) << h;
  EXPECT_EQ(resolve_range("Bytes = 1-2", 100).kind, RangeAnswer::whole);  // the unit is "bytes=" exactly
  EXPECT_EQ(resolve_range("BYTES=1-2", 100).kind, RangeAnswer::partial);
}

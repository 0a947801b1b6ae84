#include "core/time.hpp"

#include <gtest/gtest.h>

namespace portico::core {
namespace {

TEST(Time, Rfc3339RoundTripsAndReadsZones) {
  auto t = parse_rfc3339("2026-12-01T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-12-01T10:00:00Z");
  EXPECT_EQ(parse_rfc3339("2026-12-01T12:00:00+02:00"), t);
  EXPECT_EQ(parse_rfc3339("2026-12-01T09:30:00-00:30"), t);
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-12-01T10:00:00.25Z")), "2026-12-01T10:00:00.250Z");
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:01.5Z"), 1500);
}

TEST(Time, Rfc3339RefusesWhatIsNotOne) {
  for (auto bad : {"", "2026-12-01", "2026-12-01T10:00:00", "2026-13-01T10:00:00Z", "2026-02-30T10:00:00Z",
                   "2026-12-01 10:00:00Z", "2026-12-01T10:00:00+0200", "2026-12-01T10:00:00Zjunk", "yesterday",
                   "2026-12-01T10:00:00.Z", "2026-12-01T24:00:00Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Time, HttpDates) {
  auto t = *parse_rfc3339("1994-11-06T08:49:37Z");
  EXPECT_EQ(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_EQ(format_http_date(t + 999), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
}

}  // namespace
}  // namespace portico::core

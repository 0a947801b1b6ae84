// Every zone of this machine's tzdata against glibc's own localtime_r (the one ls calls), at
// each transition and around it, and every 13 days from 1970 to 2106 (what SFTP's 32-bit times
// can carry).

#include "filesystem/time_zone.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

using portico::filesystem::TimeZone;
namespace fs = std::filesystem;

namespace {

const fs::path kZones = "/usr/share/zoneinfo";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string glibc_format(std::int64_t t) {
  const time_t when = static_cast<time_t>(t);
  struct tm tm {};
  localtime_r(&when, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return text;
}

// The transition times of a TZif file's 64-bit block, read independently of the code under test.
std::vector<std::int64_t> transitions(const std::string& data) {
  auto be = [&](std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(data[at + i]);
    return v;
  };
  auto counts = [&](std::size_t at) {
    std::vector<std::uint64_t> c;
    for (int i = 0; i < 6; ++i) c.push_back(be(at + 20 + 4 * i, 4));
    return c;
  };
  std::vector<std::int64_t> out;
  if (data.size() < 44 || data[4] < '2') return out;
  auto c = counts(0);
  std::size_t second = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  c = counts(second);
  for (std::uint64_t i = 0; i < c[3]; ++i) out.push_back(static_cast<std::int64_t>(be(second + 44 + 8 * i, 8)));
  return out;
}

}  // namespace

TEST(TimeZone, EmptyDataIsUtc) {
  auto utc = TimeZone::from_tzif("");
  ASSERT_TRUE(utc);
  EXPECT_EQ(utc->format(0), "1970-01-01T00:00:00");
  EXPECT_EQ(utc->format(1796083200), "2026-12-01T00:00:00");
  EXPECT_EQ(TimeZone().format(4294967295), "2106-02-07T06:28:15");
}

TEST(TimeZone, MalformedDataIsRefused) {
  EXPECT_FALSE(TimeZone::from_tzif("not a zone"));
  auto zurich = slurp(kZones / "Europe/Zurich");
  ASSERT_FALSE(zurich.empty());
  EXPECT_FALSE(TimeZone::from_tzif(zurich.substr(0, zurich.size() / 2)));
}

TEST(TimeZone, EveryZoneReadsAsGlibcReadsIt) {
  if (!fs::exists(kZones)) GTEST_SKIP() << "no tzdata";
  const char* saved = std::getenv("TZ");
  std::string saved_tz = saved ? saved : "";
  int zones = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kZones)) {
    if (!entry.is_regular_file()) continue;
    const auto data = slurp(entry.path());
    if (data.rfind("TZif", 0) != 0) continue;  // zone.tab and friends
    const auto relative = fs::relative(entry.path(), kZones).string();
    auto zone = TimeZone::from_tzif(data);
    if (relative.rfind("right/", 0) == 0) {
      EXPECT_FALSE(zone) << relative << ": leap seconds are left to the tools";
      continue;
    }
    ASSERT_TRUE(zone) << relative;
    std::string tz = ":";
    tz += entry.path().string();  // (":" + path trips g++ 12's -Wrestrict)
    ::setenv("TZ", tz.c_str(), 1);
    ::tzset();
    std::vector<std::int64_t> times;
    for (auto t : transitions(data))
      for (std::int64_t d : {-3601, -1, 0, 1, 3600})
        if (t + d >= 0 && t + d <= 4294967295) times.push_back(t + d);
    for (std::int64_t t = 0; t <= 4294967295; t += 13 * 86400 + 3677) times.push_back(t);
    for (auto t : times) ASSERT_EQ(zone->format(t), glibc_format(t)) << relative << " at " << t;
    ++zones;
  }
  if (saved) ::setenv("TZ", saved_tz.c_str(), 1);
  else ::unsetenv("TZ");
  ::tzset();
  EXPECT_GT(zones, 300);
}

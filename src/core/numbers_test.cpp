#include "core/numbers.hpp"

#include <gtest/gtest.h>

#include <cstdint>

using portico::core::parse_decimal;

TEST(ParseDecimal, WholeTextDigitsOnly) {
  EXPECT_EQ(parse_decimal<std::uint64_t>("0"), 0u);
  EXPECT_EQ(parse_decimal<std::uint64_t>("6000000000"), 6000000000ull);
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", " 1", "1 ", "+1", "-1", "12abc", "0x10", "18446744073709551616"})
    EXPECT_EQ(parse_decimal<std::uint64_t>(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_decimal<std::uint8_t>("256"), std::nullopt);
}

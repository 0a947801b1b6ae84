#include "core/numbers.hpp"

#include <gtest/gtest.h>

#include <cstdint>

using portico::core::parse_decimal;

TEST(CheckedMulAdd, GivesTheValueOrNothingWhenItDoesNotFit) {
  using portico::core::checked_mul_add;
  EXPECT_EQ(checked_mul_add<std::int64_t>(3, 60, 5), 185);
  EXPECT_EQ(checked_mul_add<std::int64_t>(-2, 60, 0), -120);
  EXPECT_EQ(checked_mul_add<std::int64_t>(INT64_MAX / 60, 60, INT64_MAX % 60), INT64_MAX);
  EXPECT_EQ(checked_mul_add<std::int64_t>(INT64_MAX / 60, 60, INT64_MAX % 60 + 1), std::nullopt);
  EXPECT_EQ(checked_mul_add<std::int64_t>(444444444444444444, 60, 0), std::nullopt);
  EXPECT_EQ(checked_mul_add<std::uint64_t>(UINT64_MAX, 1, 1), std::nullopt);
}

TEST(ParseDecimal, WholeTextDigitsOnly) {
  EXPECT_EQ(parse_decimal<std::uint64_t>("0"), 0u);
  EXPECT_EQ(parse_decimal<std::uint64_t>("6000000000"), 6000000000ull);
  EXPECT_EQ(parse_decimal<std::uint64_t>("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", " 1", "1 ", "+1", "-1", "12abc", "0x10", "18446744073709551616"})
    EXPECT_EQ(parse_decimal<std::uint64_t>(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_decimal<std::uint8_t>("256"), std::nullopt);
}

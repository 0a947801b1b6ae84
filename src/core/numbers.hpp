#pragma once
// Reading a number that a tool printed or a client sent: the whole text, decimal digits only.

#include <charconv>
#include <concepts>
#include <optional>
#include <string_view>

namespace portico::core {

// The value of `text` when it is exactly a decimal number that fits T: no sign, space, '+' or
// "0x" (std::from_chars alone would accept "12abc" as 12). nullopt otherwise.
template <std::unsigned_integral T>
std::optional<T> parse_decimal(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// a * b + c when it fits T, else nullopt: seconds, minutes and sizes computed from numbers a tool
// printed or a client sent, whose digits can be anything.
template <std::integral T>
std::optional<T> checked_mul_add(T a, T b, T c) {
  T product{}, sum{};
  if (__builtin_mul_overflow(a, b, &product) || __builtin_add_overflow(product, c, &sum)) return std::nullopt;
  return sum;
}

}  // namespace portico::core

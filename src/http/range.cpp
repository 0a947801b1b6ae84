#include "http/range.hpp"

#include <optional>

#include "core/numbers.hpp"

namespace portico::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> number(std::string_view s) { return core::parse_decimal<std::uint64_t>(s); }

}  // namespace

RangeAnswer resolve_range(std::string_view header, std::uint64_t size) {
  header = trim(header);
  constexpr std::string_view unit = "bytes=";
  if (header.size() <= unit.size()) return {};
  for (std::size_t i = 0; i < unit.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != unit[i]) return {};
  auto spec = trim(header.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos) return {};
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  auto a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  if (a.empty()) {  // suffix: the last n bytes
    auto n = number(b);
    if (!n) return {};
    if (*n == 0 || size == 0) return {RangeAnswer::unsatisfiable};
    const auto length = std::min(*n, size);
    return {RangeAnswer::partial, size - length, length};
  }
  auto first = number(a);
  if (!first) return {};
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = number(b);
    if (!l || *l < *first) return {};
    last = std::min(*l, last);
  }
  if (*first >= size) return {RangeAnswer::unsatisfiable};
  return {RangeAnswer::partial, *first, last - *first + 1};
}

std::string content_range(const RangeAnswer& answer, std::uint64_t size) {
  if (answer.kind == RangeAnswer::partial)
    return "bytes " + std::to_string(answer.first) + "-" + std::to_string(answer.first + answer.length - 1) + "/" +
           std::to_string(size);
  return "bytes */" + std::to_string(size);
}

}  // namespace portico::http

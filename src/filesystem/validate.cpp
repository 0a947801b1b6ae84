#include "filesystem/validate.hpp"

#include "core/error.hpp"
#include "core/names.hpp"

#include <charconv>
#include <cstdint>

namespace portico::filesystem {

namespace {

core::Failure refuse(std::string_view location, std::string_view field, std::string message) {
  return core::validation_error(std::string(location), std::string(field), std::move(message));
}

bool in(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

// One clause: [ugoa]*([-+=]([rwxXst]*|[ugo]))+
bool symbolic_clause(std::string_view clause) {
  std::size_t i = 0;
  while (i < clause.size() && in(clause[i], "ugoa")) ++i;
  if (i == clause.size()) return false;  // a clause needs at least one operation
  while (i < clause.size()) {
    if (!in(clause[i], "-+=")) return false;
    ++i;
    if (i < clause.size() && in(clause[i], "ugo")) {
      ++i;  // copy another class's bits: exactly one letter
    } else {
      while (i < clause.size() && in(clause[i], "rwxXst")) ++i;
    }
  }
  return true;
}

bool symbolic_mode(std::string_view mode) {
  if (mode.empty()) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t end = mode.find(',', start);
    if (end == std::string_view::npos) end = mode.size();
    if (!symbolic_clause(mode.substr(start, end - start))) return false;
    if (end == mode.size()) return true;
    start = end + 1;
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::optional<std::uint32_t> octal_mode_value(std::string_view mode) {
  if (mode.empty() || mode.size() > 4) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : mode) {
    if (c < '0' || c > '7') return std::nullopt;
    value = value * 8 + static_cast<std::uint32_t>(c - '0');
  }
  return value;
}

std::string validate_chmod_mode(std::string_view mode, std::string_view location, std::string_view field) {
  if (mode.size() > 64 || (!octal_mode_value(mode) && !symbolic_mode(mode)))
    throw refuse(location, field, "must be an octal mode (e.g. 755) or a symbolic mode (e.g. u+rwx,g-w)");
  return std::string(mode);
}

std::string validate_owner(std::string_view name, std::string_view location, std::string_view field) {
  if (core::valid_unix_name(name)) return std::string(name);
  if (all_digits(name) && name.size() <= 10) {
    std::uint64_t id = 0;
    std::from_chars(name.data(), name.data() + name.size(), id);
    if (id <= 4294967294ull) return std::string(name);
  }
  throw refuse(location, field, "must be a user or group name, or a numeric id");
}

std::string chown_spec(std::string_view owner, std::string_view group, std::string_view location,
                       std::string_view owner_field, std::string_view group_field) {
  if (owner.empty() && group.empty()) throw refuse(location, owner_field, "an owner or a group is required");
  std::string spec;
  if (!owner.empty()) spec = validate_owner(owner, location, owner_field);
  if (!group.empty()) {
    spec += ':';
    spec += validate_owner(group, location, group_field);
  }
  return spec;
}

std::int64_t parse_count(std::string_view text, std::string_view location, std::string_view field) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!all_digits(text) || ec != std::errc() || end != text.data() + text.size())
    throw refuse(location, field, "must be a non-negative integer");
  return value;
}

HeadTailCount parse_head_tail(const std::optional<std::string_view>& bytes, const std::optional<std::string_view>& lines,
                              std::string_view location, std::string_view bytes_field, std::string_view lines_field) {
  if (bytes && lines) {
    std::string message = "give either " + std::string(bytes_field) + " or " + std::string(lines_field) + ", not both";
    core::Failure failure(core::ErrorKind::validation, message, {},
                          {{std::string(location), std::string(bytes_field), message},
                           {std::string(location), std::string(lines_field), message}});
    throw failure;
  }
  HeadTailCount count;
  if (bytes) {
    count.unit = HeadTailCount::Unit::bytes;
    count.count = parse_count(*bytes, location, bytes_field);
  } else if (lines) {
    count.unit = HeadTailCount::Unit::lines;
    count.count = parse_count(*lines, location, lines_field);
  }
  return count;
}

ViewRange parse_view_range(const std::optional<std::string_view>& offset, const std::optional<std::string_view>& size,
                           std::int64_t max_size, std::string_view location, std::string_view offset_field,
                           std::string_view size_field) {
  ViewRange range;
  range.size = max_size;
  if (offset) range.offset = parse_count(*offset, location, offset_field);
  if (size) {
    range.size = parse_count(*size, location, size_field);
    if (range.size > max_size)
      throw refuse(location, size_field, "must be at most " + std::to_string(max_size) + " bytes");
  }
  return range;
}

}  // namespace portico::filesystem

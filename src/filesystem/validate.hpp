#pragma once
// Validators of filesystem request fields. Each throws core::validation_error(location, field,
// ...) naming the field as the client sent it, so a 400 says which field is wrong.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::filesystem {

// A chmod mode: 1 to 4 octal digits ("755", "0644", "4755"), or symbolic clauses joined by ','
// as chmod(1) defines them: [ugoa]*([-+=]([rwxXst]*|[ugo]))+ ("u+rwx,g-w", "a=r", "go=").
// Anything else is refused, so nothing but a mode reaches chmod. Returns the mode unchanged.
// Callers end chmod's options with "--" before the mode: a symbolic mode may begin with '-'.
std::string validate_chmod_mode(std::string_view mode, std::string_view location, std::string_view field);
// The value of an octal mode as above (07777 at most); nullopt for any other mode.
std::optional<std::uint32_t> octal_mode_value(std::string_view mode);

// An owner or group for chown: a name core::valid_unix_name accepts, or a numeric id
// (0..4294967294; 4294967295 is (uid_t)-1, "no change", which chown would not take as an id).
std::string validate_owner(std::string_view name, std::string_view location, std::string_view field);

// chown's OWNER[:GROUP] operand from the two optional fields, each validated:
// "owner", "owner:group" or ":group". At least one must be given (else validation on owner_field).
std::string chown_spec(std::string_view owner, std::string_view group, std::string_view location,
                       std::string_view owner_field, std::string_view group_field);

// A non-negative decimal integer that fits in int64 (no sign, no spaces, no "0x").
std::int64_t parse_count(std::string_view text, std::string_view location, std::string_view field);

// What head/tail should read: bytes or lines, never both.
struct HeadTailCount {
  enum class Unit { bytes, lines };
  Unit unit = Unit::lines;
  std::int64_t count = 10;  // head(1)'s and tail(1)'s own default when neither is given
};

// bytes / lines: the query values, if present. Both present: validation on both fields.
HeadTailCount parse_head_tail(const std::optional<std::string_view>& bytes, const std::optional<std::string_view>& lines,
                              std::string_view location, std::string_view bytes_field, std::string_view lines_field);

// What view should read: `size` bytes from `offset`.
struct ViewRange {
  std::int64_t offset = 0;
  std::int64_t size = 0;
};

// offset defaults to 0, size to max_size; a size over max_size is refused (the client switches to
// the transfer API for big files, so a larger view is a mistake, not a need).
ViewRange parse_view_range(const std::optional<std::string_view>& offset, const std::optional<std::string_view>& size,
                           std::int64_t max_size, std::string_view location, std::string_view offset_field,
                           std::string_view size_field);

}  // namespace portico::filesystem

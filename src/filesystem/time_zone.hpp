#pragma once
// A cluster's local time zone, read from its TZif data (RFC 8536: /etc/localtime), so that a
// time taken from file attributes reads as `ls --time-style=+%Y-%m-%dT%H:%M:%S` prints it there.
// The rules are glibc's (the tools Portico runs are GNU's): the transition table, the first
// standard-time type before it, and the POSIX TZ string of the file's footer after it.
//
// Thread safety: immutable values; call from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portico::filesystem {

class TimeZone {
 public:
  // UTC, as glibc has it without /etc/localtime.
  TimeZone() = default;

  // From the bytes of a TZif file ("" is UTC). nullopt when they cannot be read exactly as glibc
  // reads them: malformed, leap seconds (a "right/" zone), or a footer this does not read.
  static std::optional<TimeZone> from_tzif(std::string_view data);

  // The offset from UTC, in seconds east, at `t` (seconds since the epoch).
  std::int64_t offset_at(std::int64_t t) const;

  // t as local time, "YYYY-MM-DDTHH:MM:SS".
  std::string format(std::int64_t t) const;

 private:
  // A POSIX TZ rule's date and time: Jn, n or Mm.w.d, then /time (seconds, may be negative).
  struct Change {
    enum class Kind { julian, zero_based, month_week_day } kind = Kind::month_week_day;
    int day = 0, week = 0, month = 0;  // Jn and n: day; Mm.w.d: month, week, day (weekday)
    std::int64_t time = 7200;
  };
  struct Posix {
    std::int64_t std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    std::int64_t dst_offset = 0;
    Change start, end;
  };
  struct Type {
    std::int64_t offset = 0;
    bool dst = false;
  };

  static std::optional<Posix> parse_posix(std::string_view text);
  std::int64_t posix_offset(std::int64_t t) const;

  std::vector<std::int64_t> transitions_;
  std::vector<std::uint8_t> type_of_;  // per transition
  std::vector<Type> types_;
  std::optional<Posix> footer_;
};

}  // namespace portico::filesystem

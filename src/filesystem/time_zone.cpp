#include "filesystem/time_zone.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace portico::filesystem {

namespace {

constexpr std::int64_t kDay = 86400;

bool leap_year(std::int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// Days before each month, normal and leap years.
constexpr int kMonthDays[2][13] = {{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365},
                                   {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366}};

struct Civil {
  std::int64_t year;
  int month, day;  // 1-based
};

// The proleptic Gregorian date of a day number (days since 1970-01-01).
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = z - era * 146097;
  const auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const auto mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Big-endian fields of the TZif data.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  bool has(std::size_t n) const { return data_.size() - at_ >= n; }
  std::int64_t be(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(data_[at_ + i]);
    at_ += n;
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  std::uint8_t byte() { return static_cast<std::uint8_t>(data_[at_++]); }
  void skip(std::size_t n) { at_ += n; }
  std::string_view rest() const { return data_.substr(at_); }

 private:
  std::string_view data_;
  std::size_t at_ = 0;
};

struct Header {
  char version = 0;
  std::int64_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

std::optional<Header> header(Bytes& in) {
  if (!in.has(44)) return std::nullopt;
  if (in.rest().substr(0, 4) != "TZif") return std::nullopt;
  Header h;
  h.version = in.rest()[4];
  in.skip(20);
  h.isut = in.be(4);
  h.isstd = in.be(4);
  h.leap = in.be(4);
  h.time = in.be(4);
  h.type = in.be(4);
  h.chars = in.be(4);
  if (h.isut < 0 || h.isstd < 0 || h.leap < 0 || h.time < 0 || h.type < 1 || h.type > 256 || h.chars < 0)
    return std::nullopt;
  return h;
}

std::size_t block_size(const Header& h, std::size_t time_size) {
  return static_cast<std::size_t>(h.time * time_size + h.time + h.type * 6 + h.chars + h.leap * (time_size + 4) +
                                  h.isstd + h.isut);
}

// A POSIX TZ string's zone name: <...> or at least three letters.
bool take_name(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    auto close = s.find('>');
    if (close == std::string_view::npos || close < 4) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

// hh[:mm[:ss]], each part decimal.
bool take_hms(std::string_view& s, std::int64_t& hh, std::int64_t& mm, std::int64_t& ss) {
  auto number = [&s](std::int64_t& out) {
    std::size_t n = 0;
    out = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])) && n < 5) out = out * 10 + (s[n++] - '0');
    s.remove_prefix(n);
    return n > 0;
  };
  hh = mm = ss = 0;
  if (!number(hh)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!number(mm)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!number(ss)) return false;
    }
  }
  return true;
}

// An offset ([+-]hh[:mm[:ss]], west of UTC positive) as seconds east of UTC, clamped as glibc does.
bool take_offset(std::string_view& s, std::int64_t& east) {
  int sign = -1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? 1 : -1;
    s.remove_prefix(1);
  }
  std::int64_t hh, mm, ss;
  if (!take_hms(s, hh, mm, ss)) return false;
  east = sign * (std::min<std::int64_t>(ss, 59) + std::min<std::int64_t>(mm, 59) * 60 + std::min<std::int64_t>(hh, 24) * 3600);
  return true;
}

}  // namespace

std::optional<TimeZone::Posix> TimeZone::parse_posix(std::string_view s) {
  Posix p;
  if (!take_name(s) || !take_offset(s, p.std_offset)) return std::nullopt;
  if (s.empty()) return p;
  if (!take_name(s)) return std::nullopt;
  p.has_dst = true;
  p.dst_offset = p.std_offset + 3600;
  if (!s.empty() && s[0] != ',' && !take_offset(s, p.dst_offset)) return std::nullopt;
  // Without rules glibc reads them from a "posixrules" file: not followed here.
  if (s.empty() || s[0] != ',') return std::nullopt;
  for (Change* c : {&p.start, &p.end}) {
    if (s.empty() || s[0] != ',') return std::nullopt;
    s.remove_prefix(1);
    std::int64_t a = 0, b = 0, d = 0;
    if (!s.empty() && s[0] == 'M') {
      s.remove_prefix(1);
      std::int64_t ignored;
      if (!take_hms(s, a, ignored, ignored) || s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
      if (!take_hms(s, b, ignored, ignored) || s.empty() || s[0] != '.') return std::nullopt;
      s.remove_prefix(1);
      if (!take_hms(s, d, ignored, ignored)) return std::nullopt;
      if (a < 1 || a > 12 || b < 1 || b > 5 || d > 6) return std::nullopt;
      c->kind = Change::Kind::month_week_day;
      c->month = static_cast<int>(a);
      c->week = static_cast<int>(b);
      c->day = static_cast<int>(d);
    } else {
      const bool julian = !s.empty() && s[0] == 'J';
      if (julian) s.remove_prefix(1);
      std::int64_t ignored;
      if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) || !take_hms(s, a, ignored, ignored)) return std::nullopt;
      if (a > 365 || (julian && a == 0)) return std::nullopt;
      c->kind = julian ? Change::Kind::julian : Change::Kind::zero_based;
      c->day = static_cast<int>(a);
    }
    c->time = 7200;
    if (!s.empty() && s[0] == '/') {
      s.remove_prefix(1);
      const bool negative = !s.empty() && s[0] == '-';
      if (negative || (!s.empty() && s[0] == '+')) s.remove_prefix(1);
      std::int64_t hh, mm, ss;
      if (!take_hms(s, hh, mm, ss)) return std::nullopt;
      c->time = (negative ? -1 : 1) * (hh * 3600 + mm * 60 + ss);
    }
  }
  if (!s.empty()) return std::nullopt;
  return p;
}

std::optional<TimeZone> TimeZone::from_tzif(std::string_view data) {
  TimeZone zone;
  if (data.empty()) return zone;
  Bytes in(data);
  auto h = header(in);
  if (!h) return std::nullopt;
  std::size_t time_size = 4;
  if (h->version >= '2') {
    // The 64-bit block follows the 32-bit one, under a header of its own; then the footer.
    if (!in.has(block_size(*h, 4))) return std::nullopt;
    in.skip(block_size(*h, 4));
    h = header(in);
    if (!h) return std::nullopt;
    time_size = 8;
  }
  if (h->leap > 0 || !in.has(block_size(*h, time_size))) return std::nullopt;
  zone.transitions_.resize(static_cast<std::size_t>(h->time));
  for (auto& t : zone.transitions_) t = in.be(time_size);
  zone.type_of_.resize(static_cast<std::size_t>(h->time));
  for (auto& i : zone.type_of_) {
    i = in.byte();
    if (i >= h->type) return std::nullopt;
  }
  zone.types_.resize(static_cast<std::size_t>(h->type));
  for (auto& t : zone.types_) {
    t.offset = in.be(4);
    t.dst = in.byte() != 0;
    in.byte();  // the abbreviation's index
  }
  in.skip(static_cast<std::size_t>(h->chars + h->isstd + h->isut));
  if (!std::is_sorted(zone.transitions_.begin(), zone.transitions_.end())) return std::nullopt;
  if (time_size == 8) {
    auto rest = in.rest();
    if (rest.size() < 2 || rest[0] != '\n') return std::nullopt;
    auto end = rest.find('\n', 1);
    if (end == std::string_view::npos) return std::nullopt;
    auto text = rest.substr(1, end - 1);
    if (!text.empty()) {
      zone.footer_ = parse_posix(text);
      if (!zone.footer_) return std::nullopt;
    }
  }
  return zone;
}

std::int64_t TimeZone::posix_offset(std::int64_t t) const {
  const auto& p = *footer_;
  if (!p.has_dst) return p.std_offset;
  const auto year = civil_from_days(floor_div(t, kDay)).year;
  // Midnight UTC of January 1st (glibc takes 0 for 1970 and before), then the rule's day.
  std::int64_t jan1 = 0;
  if (year > 1970)
    jan1 = ((year - 1970) * 365 + ((year - 1) / 4 - 1970 / 4) - ((year - 1) / 100 - 1970 / 100) +
            ((year - 1) / 400 - 1970 / 400)) * kDay;
  const bool leap = leap_year(year);
  auto change = [&](const Change& c, std::int64_t offset) {
    std::int64_t at = jan1;
    switch (c.kind) {
      case Change::Kind::julian:
        at += (c.day - 1) * kDay + (c.day >= 60 && leap ? kDay : 0);
        break;
      case Change::Kind::zero_based:
        at += c.day * kDay;
        break;
      case Change::Kind::month_week_day: {
        const int* before = &kMonthDays[leap][c.month];
        at += before[-1] * kDay;
        // The weekday of the month's first day (0 Sunday), by Zeller's congruence as glibc.
        const std::int64_t m1 = (c.month + 9) % 12 + 1;
        const std::int64_t yy0 = c.month <= 2 ? year - 1 : year;
        const std::int64_t yy1 = yy0 / 100, yy2 = yy0 % 100;
        std::int64_t dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
        if (dow < 0) dow += 7;
        std::int64_t d = c.day - dow;
        if (d < 0) d += 7;
        for (int i = 1; i < c.week; ++i) {
          if (d + 7 >= before[0] - before[-1]) break;
          d += 7;
        }
        at += d * kDay;
        break;
      }
    }
    return at - offset + c.time;
  };
  const auto start = change(p.start, p.std_offset);
  const auto end = change(p.end, p.dst_offset);
  // In the southern hemisphere daylight time spans the new year.
  const bool dst = start > end ? (t < end || t >= start) : (t >= start && t < end);
  return dst ? p.dst_offset : p.std_offset;
}

std::int64_t TimeZone::offset_at(std::int64_t t) const {
  if (types_.empty()) return 0;  // UTC
  if (transitions_.empty() || t < transitions_.front()) {
    // Before any transition: the first standard-time type (or the first, if all are DST).
    auto it = std::find_if(types_.begin(), types_.end(), [](const Type& x) { return !x.dst; });
    return (it == types_.end() ? types_.front() : *it).offset;
  }
  if (t >= transitions_.back()) {
    if (footer_) return posix_offset(t);
    return types_[type_of_.back()].offset;
  }
  const auto next = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return types_[type_of_[static_cast<std::size_t>(next - transitions_.begin() - 1)]].offset;
}

std::string TimeZone::format(std::int64_t t) const {
  const auto local = t + offset_at(t);
  const auto days = floor_div(local, kDay);
  const auto secs = local - days * kDay;
  const auto date = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", date.year, date.month, date.day, secs / 3600, secs / 60 % 60,
                     secs % 60);
}

}  // namespace portico::filesystem

#pragma once
// Times on the wire: RFC 3339 (with a zone, as the IRI API requires) and HTTP dates (RFC 9110
// IMF-fixdate, for Last-Modified and If-Modified-Since). Times are milliseconds since the epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::core {

using Millis = std::int64_t;

Millis now_millis();

// "2026-12-01T10:00:00Z", with ".123" when the milliseconds are not zero.
std::string format_rfc3339(Millis t);

// A full RFC 3339 date-time: date, 'T' (or 't'), time, optional fraction, and a zone ("Z" or
// "+hh:mm"); nullopt for anything else (a bare date, no zone, out-of-range fields).
std::optional<Millis> parse_rfc3339(std::string_view text);

// "Tue, 01 Dec 2026 10:00:00 GMT" (seconds: HTTP dates have no fraction).
std::string format_http_date(Millis t);
std::optional<Millis> parse_http_date(std::string_view text);

}  // namespace portico::core

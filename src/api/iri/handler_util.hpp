#pragma once
// What the IRI route files share: lists with offset/limit and modified_since, and lookups.

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "api/iri/api.hpp"
#include "core/error.hpp"

namespace portico::api::iri {

// One page of `matched` (in order): items modified after modified_since, from offset, at most
// limit. The reply's Last-Modified is the newest of all matched items (at least `floor`), so a
// client that saw it gets 304 until one of them changes.
template <typename T, typename LastModified, typename ToJson>
Reply list_reply(const Call& c, const std::vector<const T*>& matched, core::Millis floor, LastModified last_modified,
                 ToJson to_json) {
  core::Millis newest = floor;
  for (const auto* m : matched) newest = std::max(newest, last_modified(*m));
  auto since = c.query.time("modified_since");
  const auto offset = c.query.integer("offset", 0);
  const auto limit = c.query.integer("limit", 100);
  boost::json::array out;
  std::int64_t skipped = 0;
  for (const auto* m : matched) {
    if (since && last_modified(*m) <= *since) continue;
    if (skipped < offset) {
      ++skipped;
      continue;
    }
    if (static_cast<std::int64_t>(out.size()) >= limit) break;
    out.push_back(to_json(*m));
  }
  return Reply{std::move(out), newest};
}

// The path parameter `name` (present: the router matched it).
inline std::string path_param(const Call& c, std::string_view name) {
  return std::string(http::param(c.params, name).value_or(""));
}

inline core::Failure not_found(const std::string& what, const std::string& id) {
  return core::Failure(core::ErrorKind::not_found, "no " + what + " " + id);
}

// True when `text` contains `part`, ignoring ASCII case.
bool contains_nocase(std::string_view text, std::string_view part);

// from/to/time as given (validated RFC 3339 already); `from` after `to` is refused.
struct Window {
  std::optional<core::Millis> from, to, time;
};
Window window_of(const Call& c);

}  // namespace portico::api::iri

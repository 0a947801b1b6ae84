#include "api/iri/params.hpp"

#include <algorithm>

#include "core/numbers.hpp"
#include "facility/uuid.hpp"
#include "http/query.hpp"

namespace portico::api::iri {

const std::string* Query::get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? nullptr : &it->second.front();
}

std::vector<std::string> Query::all(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

std::optional<core::Millis> Query::time(std::string_view name) const {
  const auto* v = get(name);
  if (!v) return std::nullopt;
  return core::parse_rfc3339(*v);
}

std::int64_t Query::integer(std::string_view name, std::int64_t fallback) const {
  const auto* v = get(name);
  if (!v) return fallback;
  return static_cast<std::int64_t>(core::parse_decimal<std::uint64_t>(*v).value_or(0));
}

bool Query::flag(std::string_view name, bool fallback) const {
  const auto* v = get(name);
  return v ? *v == "true" : fallback;
}

namespace {

// The characters RFC 8141 allows in a URN's specific string, as the documents' patterns do.
bool urn_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("._~-%!$&'()*+,;=@/:").find(c) != std::string_view::npos;
  });
}

std::optional<std::string> check(const Param& p, const std::string& value) {
  switch (p.kind) {
    case ParamKind::text:
      if (value.empty()) return "must not be empty";
      return std::nullopt;
    case ParamKind::uuid:
      if (!facility::is_uuid(value)) return "expected a UUID, got \"" + value.substr(0, 64) + "\"";
      return std::nullopt;
    case ParamKind::integer: {
      auto n = core::parse_decimal<std::uint64_t>(value);
      if (!n || *n < static_cast<std::uint64_t>(p.min) || *n > static_cast<std::uint64_t>(p.max))
        return "expected an integer in " + std::to_string(p.min) + ".." + std::to_string(p.max) + ", got \"" +
               value.substr(0, 64) + "\"";
      return std::nullopt;
    }
    case ParamKind::date_time:
      if (!core::parse_rfc3339(value))
        return "expected an RFC 3339 date-time with a zone (2026-02-21T12:00:00Z), got \"" + value.substr(0, 64) + "\"";
      return std::nullopt;
    case ParamKind::choice:
      if (std::find(p.choices.begin(), p.choices.end(), value) == p.choices.end()) {
        std::string all;
        for (const auto& c : p.choices) all += (all.empty() ? "" : ", ") + c;
        return "expected one of " + all + ", got \"" + value.substr(0, 64) + "\"";
      }
      return std::nullopt;
    case ParamKind::urn:
      if (!value.starts_with(p.urn_prefix) || value.size() <= p.urn_prefix.size() || !urn_chars(value))
        return "expected a URN starting with " + p.urn_prefix + ", got \"" + value.substr(0, 64) + "\"";
      return std::nullopt;
    case ParamKind::boolean:
      if (value != "true" && value != "false") return "expected true or false, got \"" + value.substr(0, 64) + "\"";
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

Query parse_query(std::string_view query, const std::vector<Param>& params) {
  Query out;
  std::vector<core::FieldError> errors;
  std::map<std::string, int> seen;
  auto fail = [&](const std::string& name, std::string reason) {
    for (const auto& e : errors)
      if (e.name == name) return;
    errors.push_back({"query", name, std::move(reason)});
  };
  std::size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    auto pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = http::percent_decode(pair.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::string() : http::percent_decode(pair.substr(eq + 1), true);
    auto spec = std::find_if(params.begin(), params.end(), [&](const Param& p) { return p.name == name; });
    if (spec == params.end()) {
      fail(name.substr(0, 64), "unknown parameter");
      continue;
    }
    if (++seen[name] > 1 && !spec->list) {
      fail(name, "given more than once");
      continue;
    }
    if (auto reason = check(*spec, value)) {
      fail(name, *reason);
      continue;
    }
    out.add(name, std::move(value));
  }
  if (!errors.empty()) {
    std::string text;
    for (const auto& e : errors) text += (text.empty() ? "" : "; ") + e.name + ": " + e.message;
    throw core::Failure(core::ErrorKind::validation, text, {}, std::move(errors));
  }
  return out;
}

Param offset_param(std::int64_t max) {
  Param p{"offset", ParamKind::integer, "How many matching items to skip."};
  p.min = 0;
  p.max = max;
  p.default_value = 0;
  return p;
}

Param limit_param() {
  Param p{"limit", ParamKind::integer, "How many items to return at most."};
  p.min = 0;
  p.max = 1000;
  p.default_value = 100;
  return p;
}

Param boolean_param(std::string name, std::string description, bool default_value) {
  Param p{std::move(name), ParamKind::boolean, std::move(description)};
  p.default_value = default_value ? 1 : 0;
  return p;
}

Param modified_since_param() {
  return Param{"modified_since", ParamKind::date_time, "Only what changed after this time (RFC 3339)."};
}

}  // namespace portico::api::iri

#pragma once
// The query parameters an IRI operation takes, as data: one table both validates requests and
// describes them in the generated OpenAPI document. Unknown parameters, repeated ones (except
// lists), empty strings, numbers out of range and dates that are not RFC 3339 are refused, all
// of them at once, as core::Failure(validation) naming each parameter.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"

namespace portico::api::iri {

enum class ParamKind {
  text,       // a non-empty string
  uuid,       // an object id
  integer,    // within [min, max]
  date_time,  // RFC 3339 with a zone
  choice,     // one of `choices`
  urn,        // a DOE IRI URN starting with `urn_prefix`
  boolean,    // true or false
};

struct Param {
  Param(std::string name_, ParamKind kind_, std::string description_)
      : name(std::move(name_)), kind(kind_), description(std::move(description_)) {}

  std::string name;
  ParamKind kind = ParamKind::text;
  std::string description;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::optional<std::int64_t> default_value;
  std::vector<std::string> choices;
  std::string urn_prefix;
  bool list = false;  // may be repeated; each value is one item
};

// Parsed, validated values.
class Query {
 public:
  const std::string* get(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
  std::optional<core::Millis> time(std::string_view name) const;
  std::int64_t integer(std::string_view name, std::int64_t fallback) const;
  bool flag(std::string_view name, bool fallback = false) const;  // a boolean parameter
  void add(const std::string& name, std::string value) { values_[name].push_back(std::move(value)); }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// REQUIRES: query is the raw query string without '?'.
// Throws core::Failure(validation) with one field per offending parameter.
Query parse_query(std::string_view query, const std::vector<Param>& params);

// The parameters shared by lists.
Param offset_param(std::int64_t max = 1'000'000'000);
Param limit_param();
Param modified_since_param();
// A boolean query parameter (true or false) and its default.
Param boolean_param(std::string name, std::string description, bool default_value = false);

}  // namespace portico::api::iri

#include "http/router.hpp"

namespace portico::http {

std::optional<std::string_view> param(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return std::nullopt;
}

}  // namespace portico::http

#pragma once
// Method + path-template routing. Templates are literal segments and "{name}" segments; a
// "{name...}" last segment takes the rest of the path. Matching is exact and case-sensitive
// on literals (system names are matched case-insensitively by the API, not here).
// Thread-safety: add() during setup only; find() is const and safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/types.hpp"

namespace portico::http {

using Params = std::vector<std::pair<std::string, std::string>>;

std::optional<std::string_view> param(const Params& params, std::string_view name);

template <typename Handler>
class Router {
 public:
  struct Route {
    Verb verb;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };

  struct Match {
    const Route* route = nullptr;  // null: no route
    Params params;
    std::vector<Verb> allowed;     // when the path exists but not for this method
  };

  void add(Verb verb, std::string pattern, Handler handler) {
    routes_.push_back(Route{verb, pattern, split(pattern), std::move(handler)});
  }

  // path: the decoded path without the query string.
  Match find(Verb verb, std::string_view path) const {
    Match result;
    auto segments = split(path);
    for (const auto& route : routes_) {
      Params params;
      if (!matches(route.segments, segments, params)) continue;
      if (route.verb == verb) {
        result.route = &route;
        result.params = std::move(params);
        result.allowed.clear();
        return result;
      }
      result.allowed.push_back(route.verb);
    }
    return result;
  }

  const std::vector<Route>& routes() const { return routes_; }

 private:
  static std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i <= path.size()) {
      auto j = path.find('/', i);
      if (j == std::string_view::npos) j = path.size();
      if (j > i) out.emplace_back(path.substr(i, j - i));
      i = j + 1;
    }
    return out;
  }

  static bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path, Params& params) {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      const auto& p = pattern[i];
      bool is_param = p.size() > 2 && p.front() == '{' && p.back() == '}';
      if (is_param && p.size() > 5 && p.compare(p.size() - 4, 4, "...}") == 0) {
        if (i >= path.size()) return false;
        std::string rest;
        for (std::size_t k = i; k < path.size(); ++k) rest += (k > i ? "/" : "") + path[k];
        params.emplace_back(p.substr(1, p.size() - 5), rest);
        return true;
      }
      if (i >= path.size()) return false;
      if (is_param) params.emplace_back(p.substr(1, p.size() - 2), path[i]);
      else if (p != path[i]) return false;
    }
    return pattern.size() == path.size();
  }

  std::vector<Route> routes_;
};

}  // namespace portico::http

#pragma once
// What must hold of a request body once an API has read it: every path lies inside the file
// systems (filesystem/paths.hpp), and every command built from it reaches the remote shell word
// for word. Shared by the JSON body fuzz targets.

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "fuzz_support.hpp"

namespace portico::fuzz {

// The cluster the bodies are read for.
inline const std::vector<config::FileSystem>& file_systems() {
  static const std::vector<config::FileSystem> fs{{"/home", "users", true}, {"/scratch", "scratch"}};
  return fs;
}

// A confined path: absolute, normalised, inside one of the file systems.
inline void check_confined(std::string_view path) {
  FUZZ_CHECK(!path.empty() && path.front() == '/');
  FUZZ_CHECK(path.find("//") == std::string_view::npos && path.find('\0') == std::string_view::npos);
  FUZZ_CHECK(path == "/" || path.back() != '/');
  for (std::string_view bad : {"/./", "/../"}) FUZZ_CHECK(path.find(bad) == std::string_view::npos);
  FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
  bool inside = false;
  for (const auto& fs : file_systems())
    inside = inside || path == fs.path || (path.starts_with(fs.path) && path[fs.path.size()] == '/');
  FUZZ_CHECK(inside);
}

}  // namespace portico::fuzz

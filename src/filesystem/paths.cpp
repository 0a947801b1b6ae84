#include "filesystem/paths.hpp"

#include "core/error.hpp"

namespace portico::filesystem {

namespace {

// Splits on '/', dropping empty components (duplicate slashes) and ".".
std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string_view>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (auto part : parts) {
    out += '/';
    out += part;
  }
  return out;
}

// True when `inner` equals `outer` or lies under it, component-wise ("/homex" is not in "/home").
bool within(const std::vector<std::string_view>& inner, const std::vector<std::string_view>& outer) {
  if (inner.size() < outer.size()) return false;
  for (std::size_t i = 0; i < outer.size(); ++i)
    if (inner[i] != outer[i]) return false;
  return true;
}

// Configured paths are normalised the same way, so "/home/" or "//scratch" still match. A
// configured path with ".." is a configuration mistake; it is taken literally and matches nothing
// a client can send, because client paths never keep "..".
std::vector<std::vector<std::string_view>> roots(const std::vector<config::FileSystem>& file_systems) {
  std::vector<std::vector<std::string_view>> out;
  out.reserve(file_systems.size());
  for (const auto& fs : file_systems)
    if (!fs.path.empty() && fs.path.front() == '/') out.push_back(components(fs.path));
  return out;
}

bool within_any(const std::vector<std::string_view>& parts, const std::vector<std::vector<std::string_view>>& roots) {
  for (const auto& root : roots)
    if (within(parts, root)) return true;
  return false;
}

}  // namespace

std::string confine(std::string_view path, const std::vector<config::FileSystem>& file_systems,
                    std::string_view location, std::string_view field) {
  auto refuse = [&](std::string message) {
    return core::validation_error(std::string(location), std::string(field), std::move(message));
  };
  if (path.empty()) throw refuse("must not be empty");
  if (path.size() > max_path_bytes) throw refuse("is longer than " + std::to_string(max_path_bytes) + " bytes");
  if (path.find('\0') != std::string_view::npos) throw refuse("must not contain a NUL byte");
  if (path.front() != '/') throw refuse("must be an absolute path");

  auto fs_roots = roots(file_systems);
  std::vector<std::string_view> parts;
  for (auto part : components(path)) {
    if (part != "..") {
      parts.push_back(part);
      continue;
    }
    if (parts.empty()) throw refuse("must not use '..' above '/'");
    parts.pop_back();
    if (!within_any(parts, fs_roots)) throw refuse("must not use '..' to leave a configured file system");
  }
  if (!within_any(parts, fs_roots)) throw refuse("is not inside a configured file system");
  return join(parts);
}

std::string confine_target_name(std::string_view name, std::string_view location, std::string_view field) {
  auto refuse = [&](std::string message) {
    return core::validation_error(std::string(location), std::string(field), std::move(message));
  };
  if (name.empty()) throw refuse("must not be empty");
  if (name == "." || name == "..") throw refuse("must not be '.' or '..'");
  if (name.size() > max_name_bytes) throw refuse("is longer than " + std::to_string(max_name_bytes) + " bytes");
  if (name.find('/') != std::string_view::npos) throw refuse("must not contain '/'");
  if (name.find('\0') != std::string_view::npos) throw refuse("must not contain a NUL byte");
  return std::string(name);
}

std::string child_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

bool is_file_system_root(const std::string& path, const std::vector<config::FileSystem>& file_systems) {
  for (const auto& fs : file_systems)
    if (confine(fs.path, file_systems, "query", "path") == path) return true;
  return false;
}

}  // namespace portico::filesystem

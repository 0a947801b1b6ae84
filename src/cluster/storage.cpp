#include "cluster/storage.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/numbers.hpp"

namespace portico::cluster {

namespace {

using core::ErrorKind;
using core::Failure;

std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, 80));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return text.size() > 80 ? out + "..." : out;
}

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

// Whether path is root or lies below it.
bool within(std::string_view path, std::string_view root) {
  return path == root || (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/');
}

// The script of storage_probe_argv: constant text, reading only its positional parameters.
constexpr const char* kProbeScript =
    "h=$(getent passwd \"$1\" | cut -d: -f6); shift; printf 'home %s\\n' \"$h\"; "
    "for d in ${h:+\"$h\"} \"$@\"; do "
    "f=-; [ -d \"$d\" ] && f=d; "
    "[ -r \"$d\" ] && f=${f}r || f=${f}-; [ -w \"$d\" ] && f=${f}w || f=${f}-; [ -x \"$d\" ] && f=${f}x || f=${f}-; "
    "printf '%s %s\\n' \"$f\" \"$d\"; done";

}  // namespace

std::vector<std::string> quota_argv(const config::FileSystem& fs, const std::string& user) {
  std::vector<std::string> argv;
  for (auto word : fs.quota_command) {
    for (auto at = word.find("{user}"); at != std::string::npos; at = word.find("{user}", at + user.size()))
      word.replace(at, 6, user);
    argv.push_back(std::move(word));
  }
  return argv;
}

Quota parse_quota(std::string_view text) {
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto words = words_of(line);
    if (!words.empty()) {
      std::uint64_t n[4] = {};
      bool ok = words.size() == 4;
      for (std::size_t i = 0; ok && i < 4; ++i) {
        auto v = core::parse_decimal<std::uint64_t>(words[i]);
        ok = v.has_value();
        if (ok) n[i] = *v;
      }
      if (!ok)
        throw Failure(ErrorKind::internal,
                      fmt::format("unexpected quota command output: \"{}\" (expected: used_bytes limit_bytes "
                                  "used_inodes limit_inodes)",
                                  excerpt(line)));
      return Quota{n[0], n[1], n[2], n[3]};
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  throw Failure(ErrorKind::internal, "the quota command printed nothing");
}

boost::asio::awaitable<std::optional<Quota>> read_quota(core::CommandRunner& runner, const config::FileSystem& fs,
                                                        const std::string& user) {
  if (fs.quota_command.empty()) co_return std::nullopt;
  core::Command cmd;
  cmd.argv = quota_argv(fs, user);
  auto result = co_await runner.run(std::move(cmd));
  if (result.timed_out) throw Failure(ErrorKind::timeout, "the quota command of " + fs.path + " timed out");
  if (result.exit_status != 0)
    throw Failure(ErrorKind::internal,
                  fmt::format("the quota command of {} failed with exit status {}: {}", fs.path, result.exit_status,
                              excerpt(result.err)));
  co_return parse_quota(result.out);
}

std::string logical_name(std::string_view data_type) {
  if (data_type == "users") return "home";
  if (data_type == "scratch") return "scratch";
  if (data_type == "project") return "project";
  if (data_type == "archive") return "archive";
  if (data_type == "store") return "campaign";
  if (data_type == "apps") return "shared";
  return "";
}

std::vector<std::string> storage_probe_argv(const std::string& user, const std::vector<std::string>& candidates) {
  std::vector<std::string> argv{"sh", "-c", kProbeScript, "sh", user};
  argv.insert(argv.end(), candidates.begin(), candidates.end());
  return argv;
}

StorageProbe parse_storage_probe(std::string_view text) {
  StorageProbe probe;
  bool seen_home = false;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    if (end == std::string_view::npos)
      text = {};
    else
      text.remove_prefix(end + 1);
    if (line.empty()) continue;
    if (!seen_home) {
      if (!line.starts_with("home ") && line != "home")
        throw Failure(ErrorKind::internal, "unexpected storage probe output: \"" + excerpt(line) + "\"");
      probe.home = line.size() > 5 ? std::string(line.substr(5)) : "";
      seen_home = true;
      continue;
    }
    if (line.size() < 6 || line[4] != ' ' || std::string_view("d-").find(line[0]) == std::string_view::npos)
      throw Failure(ErrorKind::internal, "unexpected storage probe output: \"" + excerpt(line) + "\"");
    PathAccess a;
    a.exists = line[0] == 'd';
    a.read = line[1] == 'r';
    a.write = line[2] == 'w';
    a.execute = line[3] == 'x';
    a.path = std::string(line.substr(5));
    probe.paths.push_back(std::move(a));
  }
  if (!seen_home) throw Failure(ErrorKind::internal, "the storage probe printed nothing");
  return probe;
}

std::vector<std::string> storage_candidates(const config::Cluster& cluster, const std::string& user,
                                            const std::vector<std::string>& accounts) {
  std::vector<std::string> out;
  for (const auto& fs : cluster.file_systems) {
    auto name = logical_name(fs.data_type);
    if (name.empty()) continue;
    if (name == "project") {
      for (const auto& a : accounts) out.push_back(fs.path + "/" + a);
    } else {
      out.push_back(fs.path + "/" + user);
    }
    out.push_back(fs.path);
  }
  return out;
}

std::vector<StorageLocation> storage_locations(const config::Cluster& cluster, const std::string& user,
                                               const std::vector<std::string>& accounts, const StorageProbe& probe) {
  auto access = [&](const std::string& path) -> const PathAccess* {
    for (const auto& p : probe.paths)
      if (p.path == path) return &p;
    return nullptr;
  };
  std::vector<StorageLocation> out;
  auto add = [&](const std::string& name, const config::FileSystem& fs, const std::string& path, bool shared) {
    StorageLocation l{name, path, fs.path, shared};
    if (const auto* a = access(path)) {
      l.read = a->read;
      l.write = a->write;
      l.execute = a->execute;
    }
    out.push_back(std::move(l));
  };
  auto exists = [&](const std::string& path) {
    const auto* a = access(path);
    return a && a->exists;
  };
  for (const auto& fs : cluster.file_systems) {
    auto name = logical_name(fs.data_type);
    if (name.empty()) continue;
    if (name == "home" && !probe.home.empty() && within(probe.home, fs.path) && exists(probe.home)) {
      add(name, fs, probe.home, false);
    } else if (name == "project") {
      bool any = false;
      for (const auto& a : accounts)
        if (exists(fs.path + "/" + a)) {
          add(name, fs, fs.path + "/" + a, true);
          any = true;
        }
      if (!any) add(name, fs, fs.path, true);
    } else if (exists(fs.path + "/" + user)) {
      add(name, fs, fs.path + "/" + user, false);
    } else {
      add(name, fs, fs.path, true);
    }
  }
  return out;
}

boost::asio::awaitable<StorageProbe> probe_storage(core::CommandRunner& runner, const config::Cluster& cluster,
                                                   const std::string& user, const std::vector<std::string>& accounts) {
  core::Command cmd;
  cmd.argv = storage_probe_argv(user, storage_candidates(cluster, user, accounts));
  auto result = co_await runner.run(std::move(cmd));
  if (result.timed_out) throw Failure(ErrorKind::timeout, "the storage probe timed out");
  if (result.exit_status != 0 && result.out.empty())
    throw Failure(ErrorKind::internal, fmt::format("the storage probe failed with exit status {}: {}",
                                                   result.exit_status, excerpt(result.err)));
  co_return parse_storage_probe(result.out);
}

}  // namespace portico::cluster

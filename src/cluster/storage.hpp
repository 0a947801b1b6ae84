#pragma once
// Where a user's data lives on a cluster and how much of it they may keep: the logical storage
// locations of the configured file systems (home, scratch, project, ...) resolved for the
// user, and the per-file-system quota command. Both run as the user, so what they report is
// what the user can reach. Knows no HTTP.
//
// Usage:
//   auto probe = co_await cluster::probe_storage(runner, cluster.config(), "alice", {"climate"});
//   auto quota = co_await cluster::read_quota(runner, fs, "alice");  // nullopt: none configured

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/command.hpp"

namespace portico::cluster {

// ---- quotas

struct Quota {
  std::uint64_t used_bytes = 0;
  std::uint64_t limit_bytes = 0;  // 0: no limit
  std::uint64_t used_inodes = 0;
  std::uint64_t limit_inodes = 0;  // 0: no limit
};

// The file system's quota_command with every "{user}" replaced. REQUIRES: a valid user name.
std::vector<std::string> quota_argv(const config::FileSystem& fs, const std::string& user);

// The documented output of a quota command: its first non-empty line, four decimal numbers
// separated by blanks: used bytes, limit bytes, used inodes, limit inodes. Throws
// core::Failure(internal) quoting the text otherwise.
Quota parse_quota(std::string_view text);

// Runs the file system's quota command as the user; nullopt when none is configured.
boost::asio::awaitable<std::optional<Quota>> read_quota(core::CommandRunner& runner, const config::FileSystem& fs,
                                                        const std::string& user);

// ---- storage locations

// IRI's logical name of a file system's data_type: users -> home, scratch -> scratch, project
// -> project, archive -> archive, store -> campaign, apps -> shared; "" for any other.
std::string logical_name(std::string_view data_type);

// What one directory is for the user.
struct PathAccess {
  std::string path;
  bool exists = false;  // a directory
  bool read = false, write = false, execute = false;
};

struct StorageProbe {
  std::string home;  // the user's passwd entry; "" when it has none
  std::vector<PathAccess> paths;  // home (when known) first, then the candidates asked, in order
};

// `sh -c '<fixed script>' sh <user> <candidate>...`: prints "home <dir>" (getent passwd), then
// "<d|-><r|-><w|-><x|-> <path>" for the home directory and each candidate, as the user sees it.
std::vector<std::string> storage_probe_argv(const std::string& user, const std::vector<std::string>& candidates);
StorageProbe parse_storage_probe(std::string_view text);

// One logical location of the user.
struct StorageLocation {
  std::string logical_name;
  std::string path;        // absolute, resolved for the user
  std::string filesystem;  // the configured file system's path
  bool shared = false;     // the file system's root or a project's directory, not the user's own
  bool read = false, write = false, execute = false;
};

// The candidate directories of the user on the cluster's file systems (besides home): for
// `users` and `scratch`-like file systems <path>/<user>; for `project` ones <path>/<account> for
// each of accounts.
std::vector<std::string> storage_candidates(const config::Cluster& cluster, const std::string& user,
                                            const std::vector<std::string>& accounts);

// The locations from a probe: per file system with a logical name, the user's home (users,
// when the passwd entry lies in it), else their own directory when it exists, else the file
// system's root (shared); project file systems give one location per existing project
// directory, else their root.
std::vector<StorageLocation> storage_locations(const config::Cluster& cluster, const std::string& user,
                                               const std::vector<std::string>& accounts, const StorageProbe& probe);

// Probes as the user. REQUIRES: user and accounts valid names.
boost::asio::awaitable<StorageProbe> probe_storage(core::CommandRunner& runner, const config::Cluster& cluster,
                                                   const std::string& user, const std::vector<std::string>& accounts);

}  // namespace portico::cluster

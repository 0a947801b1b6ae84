#pragma once
// Who a token's user is on a cluster, looked up *before* any login as them: the gateway's CA
// signs a certificate for whatever name it is asked, so the name is vetted first. The lookup runs
// as the probe user (`getent passwd NAME` and `id NAME` in one command); its answer also decides
// the access rule's groups and is FirecREST's userinfo (one cached answer for both).
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "scheduler/model.hpp"

namespace portico::cluster {

struct UnixAccount {
  std::string name;
  std::uint32_t uid = 0;
  std::vector<std::string> groups;  // their names, in id's order
  scheduler::UserInfo info;         // what `id` said, with the numeric ids
};

// The command that prints the account's passwd entry, then `id`'s line (C locale); it fails
// (exit 2, getent's "not found") when there is no such account.
// REQUIRES: user is a valid Unix name (core/names.hpp).
std::vector<std::string> account_lookup_command(const std::string& user);

// Reads that command's output; nullopt when it does not describe `user` (a passwd line of another
// name, a malformed uid).
std::optional<UnixAccount> parse_account_lookup(std::string_view out, std::string_view user);

// Why `user` must not be reached through the gateway on this cluster whatever the cluster's
// accounts say (root, the probe user, a name on access.deny_users), or "" when it may.
std::string name_refusal(const std::string& user, const config::Cluster& cluster);

// Why the account the lookup found (nullopt: none) must not be reached: it does not exist, or its
// uid is outside [access.min_uid, access.max_uid] (uid 0 always is). "" when it may.
std::string account_refusal(const std::string& user, const std::optional<UnixAccount>& account,
                            const config::Cluster& cluster);

}  // namespace portico::cluster

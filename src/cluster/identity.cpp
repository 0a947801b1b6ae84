#include "cluster/identity.hpp"

#include <algorithm>
#include <charconv>

#include "core/shell.hpp"
#include "scheduler/id_parse.hpp"

namespace portico::cluster {

std::vector<std::string> account_lookup_command(const std::string& user) {
  return core::and_then({"getent", "passwd", "--", user}, {"env", "LC_ALL=C", "id", "--", user});
}

std::optional<UnixAccount> parse_account_lookup(std::string_view out, std::string_view user) {
  auto nl = out.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view entry = out.substr(0, nl), rest = out.substr(nl + 1);
  // name:password:uid:gid:gecos:home:shell
  std::vector<std::string_view> fields;
  for (std::size_t at = 0;;) {
    auto colon = entry.find(':', at);
    fields.push_back(entry.substr(at, colon == std::string_view::npos ? colon : colon - at));
    if (colon == std::string_view::npos) break;
    at = colon + 1;
  }
  if (fields.size() != 7 || fields[0] != user) return std::nullopt;
  UnixAccount a;
  a.name = std::string(user);
  auto [p, ec] = std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), a.uid);
  if (ec != std::errc() || p != fields[2].data() + fields[2].size() || fields[2].empty()) return std::nullopt;
  try {
    a.info = scheduler::parse_id(rest);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (a.info.user.id != a.uid) return std::nullopt;
  for (const auto& g : a.info.groups)
    if (g.name) a.groups.push_back(*g.name);
  return a;
}

std::string name_refusal(const std::string& user, const config::Cluster& cluster) {
  const auto& deny = cluster.access.deny_users;
  if (user == "root") return "the account 'root' is never reached through the gateway";
  if (!cluster.probe_user.empty() && user == cluster.probe_user)
    return "the account '" + user + "' is the gateway's own and is not reached through the gateway";
  if (std::find(deny.begin(), deny.end(), user) != deny.end())
    return "the account '" + user + "' is not reached through the gateway on system '" + cluster.name + "'";
  return "";
}

std::string account_refusal(const std::string& user, const std::optional<UnixAccount>& account,
                            const config::Cluster& cluster) {
  if (!account) return "there is no account '" + user + "' on system '" + cluster.name + "'";
  if (account->uid == 0 || account->uid < cluster.access.min_uid || account->uid > cluster.access.max_uid)
    return "the account '" + user + "' is a system account (uid " + std::to_string(account->uid) +
           ") and is not reached through the gateway";
  return "";
}

}  // namespace portico::cluster

// Who a user is on a cluster, from the cluster's own tools: the probe's account lookup
// (`getent passwd NAME; id NAME`, cluster/identity.hpp), which decides whether Portico's CA
// signs for the name at all, and `id` and `getent passwd <uid>...` (scheduler/id_parse.hpp).
// Input: one byte choosing the reader, then for the lookup the user name up to the first
// '\n' and the command's output after it; else the output.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/identity.hpp"
#include "fuzz_support.hpp"
#include "scheduler/id_parse.hpp"

using portico::core::ErrorKind;
using portico::fuzz::refused_or_ran;

namespace {

void check_lookup(std::string_view text) {
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos) return;
  const auto user = text.substr(0, nl);
  const auto out = text.substr(nl + 1);
  const auto account = portico::cluster::parse_account_lookup(out, user);
  portico::config::Cluster cluster;
  cluster.name = "hpc";
  cluster.probe_user = "portico-probe";
  if (!account) {
    FUZZ_CHECK(!portico::cluster::account_refusal(std::string(user), account, cluster).empty());
    return;
  }
  // The account is the one asked for, with the uid of its own passwd line.
  FUZZ_CHECK(account->name == user);
  const auto passwd = out.substr(0, out.find('\n'));
  FUZZ_CHECK(passwd.starts_with(std::string(user) + ":"));
  auto uid_field = passwd.substr(passwd.find(':', user.size() + 1) + 1);
  uid_field = uid_field.substr(0, uid_field.find(':'));
  std::uint32_t uid = 0;
  const auto [end, ec] = std::from_chars(uid_field.data(), uid_field.data() + uid_field.size(), uid);
  FUZZ_CHECK(ec == std::errc() && end == uid_field.data() + uid_field.size() && uid == account->uid);
  FUZZ_CHECK(account->info.user.id == account->uid);
  for (const auto& g : account->groups) FUZZ_CHECK(!g.empty() && g.find_first_of(")\n") == std::string::npos);
  const bool outside = account->uid == 0 || account->uid < cluster.access.min_uid || account->uid > cluster.access.max_uid;
  FUZZ_CHECK(outside == !portico::cluster::account_refusal(std::string(user), account, cluster).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: check_lookup(text); break;
    case 1:
      refused_or_ran(ErrorKind::internal, [&] {
        const auto info = portico::scheduler::parse_id(text);
        FUZZ_CHECK(!info.groups.empty());
        for (const auto& g : info.groups) FUZZ_CHECK(!g.name || !g.name->empty());
      });
      break;
    case 2:
      for (const auto& [uid, name] : portico::scheduler::parse_getent_passwd(text)) {
        FUZZ_CHECK(!uid.empty() && uid.find_first_not_of("0123456789") == std::string::npos);
        FUZZ_CHECK(!name.empty());
      }
      break;
  }
  return 0;
}

#include "scheduler/accounting.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.hpp"
#include "core/numbers.hpp"
#include "scheduler/command_output.hpp"

namespace portico::scheduler {

namespace {

using core::ErrorKind;
using core::Failure;

Failure malformed(std::string_view what, std::string_view text) {
  return Failure(ErrorKind::internal, fmt::format("unexpected {} output: \"{}\"", what, excerpt(text)));
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    auto line = text.substr(0, end);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

}  // namespace

bool valid_account_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

std::vector<std::string> sacctmgr_allocation_argv(const std::vector<std::string>& accounts) {
  return {"sacctmgr", "--noheader", "--parsable2", "show", "account", "withassoc", "where", "name=" + joined(accounts),
          "format=Cluster,Account,Description,User,GrpTRESMins"};
}

std::vector<std::string> sacct_node_time_argv(const std::vector<std::string>& accounts) {
  return {"sacct",
          "--noheader",
          "--parsable2",
          "--allusers",
          "--allocations",
          "--duplicates",
          "--accounts=" + joined(accounts),
          "--starttime=1970-01-01T00:00:00",
          "--endtime=now",
          "--format=Account,User,NNodes,ElapsedRaw"};
}

std::optional<std::int64_t> tres_value(std::string_view tres, std::string_view name) {
  if (tres.empty()) return std::nullopt;
  for (auto item : split(tres, ',')) {
    auto eq = item.find('=');
    if (eq == std::string_view::npos) throw malformed("TRES list", tres);
    if (item.substr(0, eq) != name) continue;
    auto value = core::parse_decimal<std::uint64_t>(item.substr(eq + 1));
    if (!value || *value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw malformed("TRES list", tres);
    return static_cast<std::int64_t>(*value);
  }
  return std::nullopt;
}

std::vector<AssociationLimit> parse_sacctmgr_allocations(std::string_view text) {
  std::vector<AssociationLimit> out;
  for (auto line : lines_of(text)) {
    // The description is free text and may hold '|': it is whatever lies between the second
    // field and the last two.
    auto fields = split(line, '|');
    if (fields.size() < 5) throw malformed("sacctmgr show account", line);
    AssociationLimit row;
    row.cluster = std::string(fields[0]);
    row.account = std::string(fields[1]);
    auto first = fields[0].size() + fields[1].size() + 2;
    auto tail = fields[fields.size() - 2].size() + fields.back().size() + 2;
    row.description = std::string(line.substr(first, line.size() - first - tail));
    row.user = std::string(fields[fields.size() - 2]);
    if (row.account.empty()) throw malformed("sacctmgr show account", line);
    try {
      row.node_minutes = tres_value(fields.back(), "node");
    } catch (const Failure&) {
      throw malformed("sacctmgr show account", line);
    }
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<AssociationLimit> parse_rest_allocation_limits(std::string_view associations, std::string_view accounts) {
  namespace json = boost::json;
  auto parsed = [](std::string_view body, const char* list) {
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec);
    const json::value* items = !ec && doc.is_object() ? doc.as_object().if_contains(list) : nullptr;
    if (!items || !items->is_array()) throw malformed(std::string("slurmrestd ") + list, body);
    return json::array(items->as_array());
  };
  auto text = [](const json::object& o, std::string_view key) -> std::string {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::vector<std::pair<std::string, std::string>> descriptions;
  const json::array account_list = parsed(accounts, "accounts");
  const json::array association_list = parsed(associations, "associations");
  for (const auto& a : account_list)
    if (a.is_object()) descriptions.emplace_back(text(a.as_object(), "name"), text(a.as_object(), "description"));
  std::vector<AssociationLimit> out;
  for (const auto& item : association_list) {
    if (!item.is_object()) throw malformed("slurmrestd associations", json::serialize(item));
    const auto& a = item.as_object();
    AssociationLimit row;
    row.cluster = text(a, "cluster");
    row.account = text(a, "account");
    row.user = text(a, "user");
    if (row.account.empty()) throw malformed("slurmrestd associations", json::serialize(item));
    for (const auto& [name, description] : descriptions)
      if (name == row.account) row.description = description;
    const json::value* minutes = nullptr;
    if (const auto* max = a.if_contains("max"); max && max->is_object())
      if (const auto* tres = max->as_object().if_contains("tres"); tres && tres->is_object())
        if (const auto* group = tres->as_object().if_contains("group"); group && group->is_object())
          minutes = group->as_object().if_contains("minutes");
    if (minutes && minutes->is_array())
      for (const auto& t : minutes->as_array()) {
        if (!t.is_object() || text(t.as_object(), "type") != "node") continue;
        const auto* count = t.as_object().if_contains("count");
        if (count && count->is_int64()) row.node_minutes = count->as_int64();
        else if (count && count->is_uint64()) row.node_minutes = static_cast<std::int64_t>(count->as_uint64());
        else throw malformed("slurmrestd associations", json::serialize(t));
      }
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<JobNodeTime> parse_sacct_node_time(std::string_view text) {
  std::vector<JobNodeTime> out;
  for (auto line : lines_of(text)) {
    auto fields = split(line, '|');
    if (fields.size() != 4) throw malformed("sacct", line);
    auto nodes = core::parse_decimal<std::uint64_t>(fields[2]);
    auto elapsed = core::parse_decimal<std::uint64_t>(fields[3]);
    if (!nodes || !elapsed) throw malformed("sacct", line);
    out.push_back({std::string(fields[0]), std::string(fields[1]), static_cast<std::int64_t>(*nodes * *elapsed)});
  }
  return out;
}

std::vector<AccountAllocation> merge_allocations(const std::vector<std::string>& accounts, const std::string& cluster,
                                                 const std::vector<AssociationLimit>& limits,
                                                 const std::vector<JobNodeTime>& jobs) {
  std::vector<AccountAllocation> out;
  for (const auto& name : accounts) {
    AccountAllocation a;
    a.account = name;
    bool listed = false;
    for (const auto& row : limits) {
      if (row.account != name || (!cluster.empty() && row.cluster != cluster)) continue;
      if (row.user.empty()) {
        listed = true;
        a.description = row.description;
        a.node_time.limit_minutes = row.node_minutes;
      } else if (std::none_of(a.users.begin(), a.users.end(), [&](const UserAllocation& u) { return u.user == row.user; })) {
        a.users.push_back({row.user, NodeTime{row.node_minutes, 0}});
      }
    }
    if (!listed) continue;
    for (const auto& job : jobs) {
      if (job.account != name) continue;
      a.node_time.used_seconds += job.node_seconds;
      for (auto& u : a.users)
        if (u.user == job.user) u.node_time.used_seconds += job.node_seconds;
    }
    std::sort(a.users.begin(), a.users.end(), [](const auto& x, const auto& y) { return x.user < y.user; });
    out.push_back(std::move(a));
  }
  return out;
}

boost::asio::awaitable<std::vector<JobNodeTime>> slurm_node_time(core::CommandRunner& runner,
                                                                 const std::vector<std::string>& accounts) {
  for (const auto& a : accounts)
    if (!valid_account_name(a))
      throw Failure(ErrorKind::internal, "unexpected account name", "allocations() for " + excerpt(a));
  core::Command cmd;
  cmd.argv = sacct_node_time_argv(accounts);
  auto result = co_await runner.run(std::move(cmd));
  co_return parse_sacct_node_time(successful_output(result, "sacct"));
}

boost::asio::awaitable<std::vector<AccountAllocation>> slurm_allocations(core::CommandRunner& runner,
                                                                         const std::vector<std::string>& accounts,
                                                                         const std::string& cluster) {
  if (accounts.empty()) co_return std::vector<AccountAllocation>{};
  for (const auto& a : accounts)
    if (!valid_account_name(a))
      throw Failure(ErrorKind::internal, "unexpected account name", "allocations() for " + excerpt(a));
  using namespace boost::asio::experimental::awaitable_operators;
  core::Command limits_cmd;
  limits_cmd.argv = sacctmgr_allocation_argv(accounts);
  core::Command usage_cmd;
  usage_cmd.argv = sacct_node_time_argv(accounts);
  auto limits_run = runner.run(std::move(limits_cmd));
  auto usage_run = runner.run(std::move(usage_cmd));
  auto results = co_await (std::move(limits_run) && std::move(usage_run));
  auto limits = parse_sacctmgr_allocations(successful_output(std::get<0>(results), "sacctmgr show account"));
  auto jobs = parse_sacct_node_time(successful_output(std::get<1>(results), "sacct"));
  co_return merge_allocations(accounts, cluster, limits, jobs);
}

}  // namespace portico::scheduler

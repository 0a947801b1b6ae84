// The caller's projects and allocations (getProjects, getProject, the project- and
// user-allocation operations), v1 and v2 from the same handlers. A project is a scheduler
// account the caller belongs to, on any cluster whose access rule lets them in (the same
// account name on two clusters is one project); its allocations are one per configured
// capability it can use: node hours on a cluster's compute (the scheduler's limits and use,
// scheduler/accounting.hpp), bytes and inodes on a file system that has a quota command (the
// caller's quota: file system quotas are per user). The user allocations shown are the
// caller's own; anyone else's project, allocation or user allocation is 404.
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/iri/account_models.hpp"
#include "api/iri/api.hpp"
#include "api/iri/handler_util.hpp"
#include "cluster/storage.hpp"
#include "facility/uuid.hpp"

namespace portico::api::iri {

namespace asio = boost::asio;
namespace json = boost::json;
using core::ErrorKind;
using core::Failure;
using facility::Unit;
using http::Verb;

namespace {

struct Allocation {
  ProjectAllocationView project;
  UserAllocationView user;  // the caller's
};

struct Project {
  ProjectView view;
  std::vector<Allocation> allocations;
};

bool has_unit(const facility::Capability& cap, Unit unit) {
  return std::find(cap.units.begin(), cap.units.end(), unit) != cap.units.end();
}

std::optional<AllocationEntryView> node_hours(const scheduler::NodeTime& t, std::optional<std::int64_t> fallback_limit) {
  auto limit = t.limit_minutes ? t.limit_minutes : fallback_limit;
  if (!limit) return std::nullopt;  // unlimited: nothing to give as "allocation"
  return AllocationEntryView{static_cast<double>(*limit) / 60.0, static_cast<double>(t.used_seconds) / 3600.0,
                             Unit::node_hours};
}

std::vector<AllocationEntryView> quota_entries(const facility::Capability& cap, const cluster::Quota& q) {
  std::vector<AllocationEntryView> out;
  if (has_unit(cap, Unit::bytes) && q.limit_bytes > 0)
    out.push_back({static_cast<double>(q.limit_bytes), static_cast<double>(q.used_bytes), Unit::bytes});
  if (has_unit(cap, Unit::inodes) && q.limit_inodes > 0)
    out.push_back({static_cast<double>(q.limit_inodes), static_cast<double>(q.used_inodes), Unit::inodes});
  return out;
}

// Everything the caller's projects are, asked of every cluster that lets the caller in; with
// `allocations`, their limits and use too (quota commands run only then).
asio::awaitable<std::vector<Project>> gather(Api& api, Call& c, bool allocations) {
  const auto& model = api.model();
  const auto& facility_name = model.facility.name;
  const std::string user = c.identity->username;
  std::vector<Project> projects;
  auto project_named = [&](const std::string& name) -> Project& {
    for (auto& p : projects)
      if (p.view.name == name) return p;
    Project p;
    p.view.id = facility::name_uuid(facility_name + "/project/" + name);
    p.view.name = name;
    p.view.last_modified = model.last_modified;
    projects.push_back(std::move(p));
    return projects.back();
  };
  if (!api.clusters()) co_return projects;
  for (const auto& owned : api.clusters()->all()) {
    auto& cluster = *owned;
    bool allowed = true;
    try {
      co_await cluster.authorize(user, c.identity->scopes, &c.ctx.backend_calls);
    } catch (const Failure& f) {
      if (f.kind() != ErrorKind::forbidden) throw;
      allowed = false;
    }
    if (!allowed) continue;
    auto runner = cluster.runner(user, &c.ctx.backend_calls);
    auto accounts = co_await cluster.accounts(user, runner);
    std::vector<std::string> names;
    for (const auto& a : accounts) names.push_back(a.name);
    auto found = co_await cluster.scheduler().allocations(runner, names);
    for (const auto& a : found) {
      auto& p = project_named(a.account);
      if (p.view.description.empty()) p.view.description = a.description;
      for (const auto& u : a.users)
        if (std::find(p.view.user_ids.begin(), p.view.user_ids.end(), u.user) == p.view.user_ids.end())
          p.view.user_ids.push_back(u.user);
    }
    if (!allocations) continue;
    for (const auto& cap : model.capabilities) {
      const auto* r = model.resource(cap.resource_id);
      if (!r || r->cluster != cluster.name()) continue;
      auto add = [&](Project& p, std::vector<AllocationEntryView> project_entries,
                     std::vector<AllocationEntryView> user_entries) {
        Allocation a;
        a.project.id = facility::name_uuid(facility_name + "/project_allocation/" + p.view.name + "/" + cap.name);
        a.project.project_id = p.view.id;
        a.project.capability_id = cap.id;
        a.project.resource_id = r->id;
        a.project.entries = std::move(project_entries);
        a.user.id = facility::name_uuid(facility_name + "/user_allocation/" + p.view.name + "/" + cap.name + "/" + user);
        a.user.user_id = user;
        a.user.project_id = p.view.id;
        a.user.project_allocation_id = a.project.id;
        a.user.entries = std::move(user_entries);
        p.allocations.push_back(std::move(a));
      };
      if (r->source == facility::Source::cluster && has_unit(cap, Unit::node_hours)) {
        for (const auto& a : found) {
          std::vector<AllocationEntryView> mine;
          for (const auto& u : a.users)
            if (u.user == user)
              if (auto e = node_hours(u.node_time, a.node_time.limit_minutes)) mine.push_back(*e);
          std::vector<AllocationEntryView> whole;
          if (auto e = node_hours(a.node_time, std::nullopt)) whole.push_back(*e);
          add(project_named(a.account), std::move(whole), std::move(mine));
        }
      } else if (r->source == facility::Source::filesystem) {
        const auto& fss = cluster.config().file_systems;
        auto fs = std::find_if(fss.begin(), fss.end(), [&](const auto& f) { return f.path == r->path; });
        if (fs == fss.end() || fs->quota_command.empty() || found.empty()) continue;
        // A broken quota tool costs its file system's allocations, not the whole answer.
        std::optional<cluster::Quota> quota;
        try {
          quota = co_await cluster::read_quota(runner, *fs, user);
        } catch (const Failure& f) {
          if (f.kind() != ErrorKind::internal) throw;
          spdlog::warn("request {}: no storage allocation on {}:{}: {}", c.ctx.request_id, cluster.name(), fs->path,
                       f.what());
        }
        if (!quota) continue;
        for (const auto& a : found) add(project_named(a.account), quota_entries(cap, *quota), quota_entries(cap, *quota));
      }
    }
  }
  co_return projects;
}

Project& project_of(std::vector<Project>& projects, const Call& c) {
  auto id = path_param(c, "project_id");
  for (auto& p : projects)
    if (p.view.id == id) return p;
  throw not_found("project", id);
}

Allocation& allocation_of(Project& p, const Call& c) {
  auto id = path_param(c, "project_allocation_id");
  for (auto& a : p.allocations)
    if (a.project.id == id) return a;
  throw not_found("project allocation", id);
}

}  // namespace

void add_project_routes(Api& api) {
  Api* self = &api;
  auto route = [](std::string id, std::string summary, std::string response, bool list,
                  std::function<asio::awaitable<Reply>(Call&)> handler) {
    Route r{std::move(id), "account", std::move(summary), {}, std::move(response), list, true, false, "", nullptr};
    r.async_handler = std::move(handler);
    return r;
  };

  api.add(Versions::both, Verb::get, "/account/projects",
          route("getProjects", "The caller's projects: the scheduler accounts they belong to", "Project", true,
                [self](Call& c) -> asio::awaitable<Reply> {
                  auto projects = co_await gather(*self, c, false);
                  json::array out;
                  for (const auto& p : projects) out.push_back(to_json(p.view, c.links));
                  co_return Reply{std::move(out)};
                }));
  api.add(Versions::both, Verb::get, "/account/projects/{project_id}",
          route("getProject", "One of the caller's projects", "Project", false,
                [self](Call& c) -> asio::awaitable<Reply> {
                  auto projects = co_await gather(*self, c, false);
                  co_return Reply{to_json(project_of(projects, c).view, c.links)};
                }));
  api.add(Versions::both, Verb::get, "/account/projects/{project_id}/project_allocations",
          route("getProjectAllocationsByProject", "A project's allocations, with their use", "ProjectAllocation", true,
                [self](Call& c) -> asio::awaitable<Reply> {
                  auto projects = co_await gather(*self, c, true);
                  json::array out;
                  for (const auto& a : project_of(projects, c).allocations) out.push_back(to_json(a.project, c.links));
                  co_return Reply{std::move(out)};
                }));
  api.add(Versions::both, Verb::get, "/account/projects/{project_id}/project_allocations/{project_allocation_id}",
          route("getProjectAllocationByProject", "One allocation of a project", "ProjectAllocation", false,
                [self](Call& c) -> asio::awaitable<Reply> {
                  auto projects = co_await gather(*self, c, true);
                  co_return Reply{to_json(allocation_of(project_of(projects, c), c).project, c.links)};
                }));
  api.add(Versions::both, Verb::get,
          "/account/projects/{project_id}/project_allocations/{project_allocation_id}/user_allocations",
          route("getUserAllocationsByProjectAllocation", "The caller's share of a project allocation", "UserAllocation",
                true, [self](Call& c) -> asio::awaitable<Reply> {
                  auto projects = co_await gather(*self, c, true);
                  const auto& a = allocation_of(project_of(projects, c), c);
                  co_return Reply{json::array{to_json(a.user, c.links)}};
                }));
  api.add(Versions::both, Verb::get,
          "/account/projects/{project_id}/project_allocations/{project_allocation_id}/user_allocations/"
          "{user_allocation_id}",
          route("getUserAllocationByProjectAllocation", "The caller's share of a project allocation", "UserAllocation",
                false, [self](Call& c) -> asio::awaitable<Reply> {
                  auto projects = co_await gather(*self, c, true);
                  const auto& a = allocation_of(project_of(projects, c), c);
                  auto id = path_param(c, "user_allocation_id");
                  if (a.user.id != id) throw not_found("user allocation", id);
                  co_return Reply{to_json(a.user, c.links)};
                }));
}

}  // namespace portico::api::iri

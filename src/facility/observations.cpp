#include "facility/observations.hpp"

namespace portico::facility {

namespace {

const status::ServiceHealth* service(const status::ClusterHealth& h, status::ServiceType type,
                                     const std::string& path = {}) {
  for (const auto& s : h.services)
    if (s.type == type && s.path == path) return &s;
  return nullptr;
}

Observation of(const Resource& r, const status::ServiceHealth* s) {
  if (!s) return {r.id, Status::unknown, "not probed"};
  return {r.id, s->healthy ? Status::up : Status::down, s->message};
}

}  // namespace

std::vector<Observation> observations_from(const Model& model, const std::string& cluster,
                                           const status::ClusterHealth& health, bool with_s3) {
  std::vector<Observation> out;
  if (!health.last_run) return out;
  for (const auto& r : model.resources) {
    if (r.source == Source::s3 && with_s3) out.push_back(of(r, service(health, status::ServiceType::s3)));
    if (r.cluster != cluster) continue;
    switch (r.source) {
      case Source::cluster: {
        // Compute is reached through SSH; without its scheduler it runs nothing new: degraded.
        auto o = of(r, service(health, status::ServiceType::ssh));
        const auto* scheduler = service(health, status::ServiceType::scheduler);
        if (o.status == Status::up && scheduler && !scheduler->healthy) {
          o.status = Status::degraded;
          o.message = "the scheduler is down: " + scheduler->message;
        }
        out.push_back(std::move(o));
        break;
      }
      case Source::scheduler: out.push_back(of(r, service(health, status::ServiceType::scheduler))); break;
      case Source::filesystem: out.push_back(of(r, service(health, status::ServiceType::filesystem, r.path))); break;
      default: break;
    }
  }
  return out;
}

std::vector<Observation> fixed_observations(const Model& model) {
  std::vector<Observation> out;
  for (const auto& r : model.resources) {
    if (r.source == Source::gateway) out.push_back({r.id, Status::up, "serving"});
    if (r.source == Source::fixed) out.push_back({r.id, r.fixed_status, "as configured"});
  }
  return out;
}

}  // namespace portico::facility

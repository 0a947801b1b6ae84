#pragma once
// The facility as the IRI API describes it, derived from configuration: the facility, its sites,
// its resources (per cluster its compute, scheduler and file systems; the S3 staging service;
// the gateway itself; extra resources) and what can be allocated on them (capabilities). Ids are
// name UUIDs, so they survive restarts. Knows no HTTP.
// Thread-safety: a Model is an immutable value once built.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/time.hpp"

namespace portico::store {
class Store;
}

namespace portico::facility {

enum class Status { up, down, degraded, unknown };
enum class ResourceType { website, service, compute, system, storage, network, unknown };
enum class IncidentType { planned, unplanned, reservation };
enum class Resolution { unresolved, cancelled, completed, extended, pending };
enum class Unit { node_hours, bytes, inodes };

const char* to_string(Status v) noexcept;
const char* to_string(ResourceType v) noexcept;
const char* to_string(IncidentType v) noexcept;
const char* to_string(Resolution v) noexcept;
const char* to_string(Unit v) noexcept;
std::optional<Status> parse_status(std::string_view text);
std::optional<ResourceType> parse_resource_type(std::string_view text);
std::optional<IncidentType> parse_incident_type(std::string_view text);
std::optional<Resolution> parse_resolution(std::string_view text);
std::optional<Unit> parse_unit(std::string_view text);

struct Facility {
  std::string id;
  std::string name;
  std::string short_name;
  std::string description;
  std::string organization;
  std::string support_url;
  std::vector<std::string> site_ids;
};

struct Site {
  std::string id;
  std::string name;
  std::string short_name;
  std::string description;
  std::string operating_organization;
  std::string country_name;
  std::string locality_name;
  std::string state_or_province_name;
  std::string street_address;
  std::string unlocode;
  std::optional<double> altitude;
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::vector<std::string> resource_ids;
};

// Where a resource's status comes from.
enum class Source {
  cluster,     // a cluster's compute: SSH login (down), with its scheduler (degraded when that is down)
  scheduler,   // a cluster's scheduler probe
  filesystem,  // a cluster's file system probe
  s3,          // the S3 probe
  gateway,     // Portico itself: up while it answers
  probe,       // an extra resource's probe command
  fixed,       // an extra resource's configured status
};

struct Resource {
  std::string id;
  std::string name;
  std::string description;
  std::string group;
  ResourceType type = ResourceType::unknown;
  bool compute_endpoint = false;     // accepts the compute calls
  bool filesystem_endpoint = false;  // accepts the filesystem calls
  std::string site_id;
  std::vector<std::string> capability_ids;
  Source source = Source::fixed;
  std::string cluster;  // for cluster, scheduler, filesystem
  std::string path;     // for filesystem
  Status fixed_status = Status::unknown;  // for fixed
};

struct Capability {
  std::string id;
  std::string name;
  std::string description;
  std::string resource_id;
  std::vector<Unit> units;
};

struct Model {
  Facility facility;
  std::vector<Site> sites;
  std::vector<Resource> resources;
  std::vector<Capability> capabilities;
  // When the configuration of the facility last changed (see stamp()): the last_modified of
  // every object above.
  core::Millis last_modified = 0;

  // Null when unknown.
  const Site* site(std::string_view id) const;
  const Resource* resource(std::string_view id) const;
  const Resource* resource_named(std::string_view name) const;
  const Capability* capability(std::string_view id) const;
};

// REQUIRES: a validated configuration.
Model build_model(const config::Config& config);

// A digest of everything the model says, to notice a changed configuration.
std::string fingerprint(const Model& model);

// Sets model.last_modified: the time the store first saw this fingerprint (now for a new or
// changed configuration), so an unchanged facility keeps its Last-Modified across restarts.
void stamp(Model& model, store::Store& store, core::Millis now);

}  // namespace portico::facility

#include "facility/model.hpp"

#include "core/bytes.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "facility/uuid.hpp"
#include "store/store.hpp"

namespace portico::facility {

namespace {

template <typename E, std::size_t N>
std::optional<E> parse_enum(std::string_view text, const std::array<const char*, N>& names) {
  for (std::size_t i = 0; i < N; ++i)
    if (text == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

constexpr std::array<const char*, 4> kStatus = {"up", "down", "degraded", "unknown"};
constexpr std::array<const char*, 7> kResourceType = {"website", "service", "compute", "system",
                                                      "storage", "network", "unknown"};
constexpr std::array<const char*, 3> kIncidentType = {"planned", "unplanned", "reservation"};
constexpr std::array<const char*, 5> kResolution = {"unresolved", "cancelled", "completed", "extended", "pending"};
constexpr std::array<const char*, 3> kUnit = {"node_hours", "bytes", "inodes"};

template <typename T>
const T* find_by_id(const std::vector<T>& items, std::string_view id) {
  for (const auto& i : items)
    if (i.id == id) return &i;
  return nullptr;
}

}  // namespace

const char* to_string(Status v) noexcept { return kStatus[static_cast<std::size_t>(v)]; }
const char* to_string(ResourceType v) noexcept { return kResourceType[static_cast<std::size_t>(v)]; }
const char* to_string(IncidentType v) noexcept { return kIncidentType[static_cast<std::size_t>(v)]; }
const char* to_string(Resolution v) noexcept { return kResolution[static_cast<std::size_t>(v)]; }
const char* to_string(Unit v) noexcept { return kUnit[static_cast<std::size_t>(v)]; }
std::optional<Status> parse_status(std::string_view t) { return parse_enum<Status>(t, kStatus); }
std::optional<ResourceType> parse_resource_type(std::string_view t) { return parse_enum<ResourceType>(t, kResourceType); }
std::optional<IncidentType> parse_incident_type(std::string_view t) { return parse_enum<IncidentType>(t, kIncidentType); }
std::optional<Resolution> parse_resolution(std::string_view t) { return parse_enum<Resolution>(t, kResolution); }
std::optional<Unit> parse_unit(std::string_view t) { return parse_enum<Unit>(t, kUnit); }

const Site* Model::site(std::string_view id) const { return find_by_id(sites, id); }
const Resource* Model::resource(std::string_view id) const { return find_by_id(resources, id); }
const Capability* Model::capability(std::string_view id) const { return find_by_id(capabilities, id); }
const Resource* Model::resource_named(std::string_view name) const {
  for (const auto& r : resources)
    if (r.name == name) return &r;
  return nullptr;
}

Model build_model(const config::Config& config) {
  const auto& fc = config.facility;
  // Ids are scoped by the facility's name: two facilities never share one.
  auto id_of = [&](std::string_view kind, std::string_view name) {
    return name_uuid(fc.name + "/" + std::string(kind) + "/" + std::string(name));
  };
  Model m;
  m.facility.id = id_of("facility", fc.name);
  m.facility.name = fc.name;
  m.facility.short_name = fc.short_name;
  m.facility.description = fc.description;
  m.facility.organization = fc.organization;
  m.facility.support_url = fc.support_url;

  for (const auto& s : fc.sites) {
    Site site;
    site.id = id_of("site", s.name);
    site.name = s.name;
    site.short_name = s.short_name;
    site.description = s.description;
    site.operating_organization = s.operating_organization.empty() ? fc.organization : s.operating_organization;
    site.country_name = s.country_name;
    site.locality_name = s.locality_name;
    site.state_or_province_name = s.state_or_province_name;
    site.street_address = s.street_address;
    site.unlocode = s.unlocode;
    site.altitude = s.altitude;
    site.latitude = s.latitude;
    site.longitude = s.longitude;
    m.facility.site_ids.push_back(site.id);
    m.sites.push_back(std::move(site));
  }
  auto site_of_cluster = [&](const std::string& cluster) {
    for (std::size_t i = 0; i < fc.sites.size(); ++i)
      if (std::count(fc.sites[i].clusters.begin(), fc.sites[i].clusters.end(), cluster)) return m.sites[i].id;
    return m.sites.front().id;
  };
  auto add = [&](Resource r) {
    r.id = id_of("resource", r.name);
    m.resources.push_back(std::move(r));
  };

  for (const auto& c : config.clusters) {
    auto site = site_of_cluster(c.name);
    Resource compute;
    compute.name = c.name;
    compute.description = "The compute nodes of " + c.name + ", reached through its login node";
    compute.group = c.name;
    compute.type = ResourceType::compute;
    compute.compute_endpoint = true;
    compute.site_id = site;
    compute.source = Source::cluster;
    compute.cluster = c.name;
    add(std::move(compute));
    Resource scheduler;
    scheduler.name = config::scheduler_resource_name(c.name);
    scheduler.description = std::string("The batch scheduler of ") + c.name + " (" +
                            (c.scheduler.type == config::SchedulerType::pbs ? "PBS" : "Slurm") + ")";
    scheduler.group = c.name;
    scheduler.type = ResourceType::service;
    scheduler.site_id = site;
    scheduler.source = Source::scheduler;
    scheduler.cluster = c.name;
    add(std::move(scheduler));
    for (const auto& fs : c.file_systems) {
      Resource r;
      r.name = config::filesystem_resource_name(c.name, fs.path);
      r.description = "The " + fs.data_type + " file system " + fs.path + " of " + c.name;
      r.group = c.name;
      r.type = ResourceType::storage;
      r.filesystem_endpoint = true;
      r.site_id = site;
      r.source = Source::filesystem;
      r.cluster = c.name;
      r.path = fs.path;
      add(std::move(r));
    }
  }
  if (config.s3) {
    Resource r;
    r.name = config::kS3ResourceName;
    r.description = "The S3 staging area of large transfers";
    r.group = "transfer";
    r.type = ResourceType::storage;
    r.site_id = m.sites.front().id;
    r.source = Source::s3;
    add(std::move(r));
  }
  {
    Resource r;
    r.name = config::kGatewayResourceName;
    r.description = "This gateway: the FirecREST and IRI Facility APIs";
    r.group = "gateway";
    r.type = ResourceType::service;
    r.site_id = m.sites.front().id;
    r.source = Source::gateway;
    add(std::move(r));
  }
  for (const auto& e : fc.resources) {
    Resource r;
    r.name = e.name;
    r.description = e.description;
    r.group = e.group;
    r.type = parse_resource_type(e.resource_type).value_or(ResourceType::unknown);
    r.site_id = e.site.empty() ? m.sites.front().id : id_of("site", e.site);
    r.source = e.probe.empty() ? Source::fixed : Source::probe;
    r.fixed_status = parse_status(e.status).value_or(Status::unknown);
    add(std::move(r));
  }
  for (auto& s : m.sites)
    for (const auto& r : m.resources)
      if (r.site_id == s.id) s.resource_ids.push_back(r.id);

  for (const auto& c : fc.capabilities) {
    Capability cap;
    cap.id = id_of("capability", c.name);
    cap.name = c.name;
    cap.description = c.description;
    for (const auto& u : c.units)
      if (auto unit = parse_unit(u)) cap.units.push_back(*unit);
    for (auto& r : m.resources)
      if (r.name == c.resource) {
        cap.resource_id = r.id;
        r.capability_ids.push_back(cap.id);
      }
    m.capabilities.push_back(std::move(cap));
  }
  return m;
}

std::string fingerprint(const Model& m) {
  // Every field, each followed by a separator that cannot occur in YAML scalars Portico accepts.
  std::string text;
  auto put = [&](const std::string& s) {
    text += s;
    text += '\x1f';
  };
  auto put_number = [&](const std::optional<double>& v) {
    if (!v) return put("-");
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, *v);
    put(std::string(buf, r.ptr));
  };
  const auto& f = m.facility;
  for (const auto* s : {&f.id, &f.name, &f.short_name, &f.description, &f.organization, &f.support_url}) put(*s);
  for (const auto& s : m.sites) {
    for (const auto* v : {&s.id, &s.name, &s.short_name, &s.description, &s.operating_organization, &s.country_name,
                          &s.locality_name, &s.state_or_province_name, &s.street_address, &s.unlocode})
      put(*v);
    put_number(s.altitude);
    put_number(s.latitude);
    put_number(s.longitude);
    for (const auto& r : s.resource_ids) put(r);
  }
  for (const auto& r : m.resources) {
    for (const auto* v : {&r.id, &r.name, &r.description, &r.group, &r.site_id}) put(*v);
    put(to_string(r.type));
    put(r.compute_endpoint ? "c" : "-");
    put(r.filesystem_endpoint ? "f" : "-");
    for (const auto& c : r.capability_ids) put(c);
  }
  for (const auto& c : m.capabilities) {
    for (const auto* v : {&c.id, &c.name, &c.description, &c.resource_id}) put(*v);
    for (auto u : c.units) put(to_string(u));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return core::hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

void stamp(Model& model, store::Store& store, core::Millis now) {
  const std::string key = "facility.fingerprint";
  auto digest = fingerprint(model);
  if (auto saved = store.setting(key)) {
    auto space = saved->find(' ');
    if (space != std::string::npos && saved->substr(0, space) == digest) {
      core::Millis when = 0;
      auto tail = saved->substr(space + 1);
      auto [p, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), when);
      if (ec == std::errc() && p == tail.data() + tail.size()) {
        model.last_modified = when;
        return;
      }
    }
  }
  // Whole seconds: Last-Modified has no finer resolution, so a 304 is exact.
  model.last_modified = now / 1000 * 1000;
  store.set_setting(key, digest + " " + std::to_string(model.last_modified));
}

}  // namespace portico::facility

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "facility/extra_probes.hpp"
#include "facility/model.hpp"
#include "facility/observations.hpp"
#include "facility/uuid.hpp"
#include "store/store.hpp"

namespace portico::facility {
namespace {

config::Config demo_config(const std::string& extra = "") {
  auto r = config::parse_config(R"(
auth: {issuer: http://127.0.0.1:9400, audience: x}
ssh_ca: {private_key_file: /etc/ca}
clusters:
  - name: hpc
    ssh: {host: 127.0.0.1, host_public_key: "ssh-ed25519 AAAA"}
    file_systems: [{path: /home}, {path: /scratch, data_type: scratch}]
s3: {endpoint: http://127.0.0.1:9100, access_key_id: a, secret_access_key: b, bucket: c}
facility:
  name: Demo
  organization: Demo Lab
  sites: [{name: Main, location: {latitude: 46.0}}]
  resources:
    - {name: archive, resource_type: storage, probe: "exit 0"}
    - {name: portal, resource_type: website, status: degraded}
  capabilities:
    - {name: hpc node hours, resource: hpc, units: [node_hours]}
)" + extra);
  EXPECT_TRUE(r.errors.empty()) << (r.errors.empty() ? "" : r.errors[0].key + ": " + r.errors[0].message);
  return *r.config;
}

TEST(Uuid, NameUuidsAreVersion5AndStable) {
  auto a = name_uuid("Demo/resource/hpc");
  EXPECT_EQ(a, name_uuid("Demo/resource/hpc"));
  EXPECT_NE(a, name_uuid("Demo/resource/hpc scheduler"));
  EXPECT_TRUE(is_uuid(a));
  EXPECT_EQ(a[14], '5');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
  auto r = random_uuid();
  EXPECT_TRUE(is_uuid(r));
  EXPECT_EQ(r[14], '4');
  EXPECT_NE(r, random_uuid());
  EXPECT_FALSE(is_uuid("not-a-uuid"));
  EXPECT_FALSE(is_uuid("3b6f0e52-91c4-4d27-a81e-5c730d9ae64"));
  EXPECT_FALSE(is_uuid("3b6f0e52-91c4-4d27-a81e-5c730d9ae64g"));
}

TEST(Model, ResourcesOfTheDemoSite) {
  auto cfg = demo_config();
  auto m = build_model(cfg);
  std::vector<std::string> names;
  for (const auto& r : m.resources) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"hpc", "hpc scheduler", "hpc:/home", "hpc:/scratch", "s3 staging",
                                             "portico", "archive", "portal"}));
  EXPECT_EQ(names, config::resource_names(cfg));  // one naming for config and model
  const auto* hpc = m.resource_named("hpc");
  ASSERT_TRUE(hpc);
  EXPECT_EQ(hpc->type, ResourceType::compute);
  EXPECT_TRUE(hpc->compute_endpoint);
  EXPECT_EQ(hpc->site_id, m.sites[0].id);
  ASSERT_EQ(hpc->capability_ids.size(), 1u);
  EXPECT_EQ(m.capability(hpc->capability_ids[0])->units, std::vector<Unit>{Unit::node_hours});
  EXPECT_TRUE(m.resource_named("hpc:/home")->filesystem_endpoint);
  EXPECT_EQ(m.resource_named("portal")->fixed_status, Status::degraded);
  EXPECT_EQ(m.sites[0].resource_ids.size(), 8u);
  EXPECT_EQ(m.sites[0].operating_organization, "Demo Lab");
  EXPECT_EQ(m.facility.site_ids, std::vector<std::string>{m.sites[0].id});
  // Same configuration, same ids; another facility name, other ids.
  EXPECT_EQ(build_model(cfg).resources[3].id, m.resources[3].id);
  auto other = cfg;
  other.facility.name = "Other";
  EXPECT_NE(build_model(other).resources[3].id, m.resources[3].id);
}

TEST(Model, StampKeepsTheTimeOfAnUnchangedConfiguration) {
  auto store = store::open_sqlite(":memory:");
  auto m = build_model(demo_config());
  stamp(m, *store, 5'000'500);
  EXPECT_EQ(m.last_modified, 5'000'000);
  auto again = build_model(demo_config());
  stamp(again, *store, 9'000'000);
  EXPECT_EQ(again.last_modified, 5'000'000);
  auto cfg = demo_config();
  cfg.facility.description = "changed";
  auto changed = build_model(cfg);
  stamp(changed, *store, 9'000'000);
  EXPECT_EQ(changed.last_modified, 9'000'000);
}

TEST(Observations, FromAHealthRound) {
  auto m = build_model(demo_config());
  status::ClusterHealth h;
  EXPECT_TRUE(observations_from(m, "hpc", h, true).empty());  // no round yet
  h.last_run = std::chrono::system_clock::now();
  h.services = {{status::ServiceType::ssh, "", true, "OK", 0.1, {}},
                {status::ServiceType::scheduler, "", false, "slurmctld down", 0.1, {}},
                {status::ServiceType::filesystem, "/home", true, "OK", 0.1, {}},
                {status::ServiceType::s3, "", true, "OK", 0.1, {}}};
  auto obs = observations_from(m, "hpc", h, true);
  std::map<std::string, Status> by_name;
  for (const auto& o : obs) by_name[m.resource(o.resource_id)->name] = o.status;
  EXPECT_EQ(by_name["hpc"], Status::degraded);
  EXPECT_EQ(by_name["hpc scheduler"], Status::down);
  EXPECT_EQ(by_name["hpc:/home"], Status::up);
  EXPECT_EQ(by_name["hpc:/scratch"], Status::unknown);  // not probed
  EXPECT_EQ(by_name["s3 staging"], Status::up);
  EXPECT_EQ(by_name.count("portico"), 0u);
  EXPECT_EQ(observations_from(m, "hpc", h, false).size(), 4u);
  auto fixed = fixed_observations(m);
  ASSERT_EQ(fixed.size(), 2u);
  EXPECT_EQ(fixed[0].status, Status::up);
  EXPECT_EQ(fixed[1].status, Status::degraded);
}

TEST(ExtraProbes, ExitStatusDecides) {
  EXPECT_EQ(run_probe_command("r", "exit 0", std::chrono::seconds(5)).status, Status::up);
  auto down = run_probe_command("r", "exit 3", std::chrono::seconds(5));
  EXPECT_EQ(down.status, Status::down);
  EXPECT_NE(down.message.find("3"), std::string::npos);
  auto slow = run_probe_command("r", "sleep 30", std::chrono::seconds(1));
  EXPECT_EQ(slow.status, Status::down);
  EXPECT_NE(slow.message.find("no answer"), std::string::npos) << slow.message;
}

}  // namespace
}  // namespace portico::facility

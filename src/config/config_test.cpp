#include "config/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace portico::config;

namespace {

const char* kMinimal = R"(
auth:
  issuer: http://127.0.0.1:9400
  audience: https://portico.local/api
ssh_ca:
  private_key_file: /etc/portico/ca
clusters:
  - name: Daint
    ssh: {host: 127.0.0.1, port: 2222, host_public_key: "ssh-ed25519 AAAAC3Nza"}
    file_systems:
      - {path: /home/, data_type: users, default_work_dir: true}
      - {path: /scratch}
)";

bool has_error(const LoadResult& r, const std::string& key, const std::string& fragment) {
  return std::any_of(r.errors.begin(), r.errors.end(), [&](const ConfigError& e) {
    return e.key == key && e.message.find(fragment) != std::string::npos;
  });
}

std::string dump(const LoadResult& r) {
  std::string s;
  for (auto& e : r.errors) s += e.key + ": " + e.message + "\n";
  return s;
}

}  // namespace

TEST(Config, MinimalValidConfigGetsDefaults) {
  auto r = parse_config(kMinimal);
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& c = *r.config;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.auth.username_claim, "preferred_username");
  ASSERT_EQ(c.auth.audiences.size(), 1u);
  ASSERT_EQ(c.clusters.size(), 1u);
  EXPECT_EQ(c.clusters[0].ssh.port, 2222);
  EXPECT_EQ(c.clusters[0].file_systems[0].path, "/home");  // trailing slash normalised
  EXPECT_TRUE(c.clusters[0].file_systems[0].default_work_dir);
  EXPECT_EQ(c.clusters[0].max_upload_bytes, 1024ull * 1024 * 1024);
}

TEST(Config, ReportsEveryProblemWithItsKey) {
  auto r = parse_config(R"yaml(
server: {port: 99999, api_root: api, limits: {idle_timeout: soon}}
auth: {issuer: ftp://x, audience: a, usename_claim: x}
clusters:
  - name: "bad name!"
    ssh: {host: h, port: abc}
    scheduler: {type: lsf}
    file_systems: [{path: relative}, {path: /}]
    access: {users: ["$(id)"]}
)yaml");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(r, "server.port", "1..65535")) << dump(r);
  EXPECT_TRUE(has_error(r, "server.api_root", "start with")) << dump(r);
  EXPECT_TRUE(has_error(r, "server.limits.idle_timeout", "duration")) << dump(r);
  EXPECT_TRUE(has_error(r, "auth.issuer", "URL")) << dump(r);
  EXPECT_TRUE(has_error(r, "auth.usename_claim", "unknown key")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].name", "letters")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].ssh.port", "integer")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].ssh.host_public_key", "required")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].scheduler.type", "lsf")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].file_systems[0].path", "absolute")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].file_systems[1].path", "'/'")) << dump(r);
  EXPECT_TRUE(has_error(r, "clusters[0].access.users", "not a valid user name")) << dump(r);
  EXPECT_TRUE(has_error(r, "ssh_ca", "static_keys")) << dump(r);
}

TEST(Config, RejectsDuplicateClusterNamesIgnoringCase) {
  std::string text = kMinimal;
  text += R"(  - name: daint
    ssh: {host: h, host_public_key: "ssh-ed25519 AAAA"}
    file_systems: [{path: /home}]
)";
  auto r = parse_config(text);
  EXPECT_TRUE(has_error(r, "clusters[1].name", "duplicate")) << dump(r);
}

TEST(Config, PlainHttpOffLoopbackNeedsExplicitConsent) {
  std::string text = kMinimal;
  text += "server: {host: 0.0.0.0}\n";
  EXPECT_TRUE(has_error(parse_config(text), "server.host", "loopback"));
  text += "";
  std::string allowed = std::string(kMinimal) + "server: {host: 0.0.0.0, allow_plain_http_off_loopback: true}\n";
  EXPECT_TRUE(parse_config(allowed).errors.empty());
}

TEST(Config, NotYamlIsOneClearError) {
  auto r = parse_config("auth: [unclosed");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("not valid YAML"), std::string::npos);
}

TEST(Config, RelativeFilesResolveAgainstConfigDirectory) {
  std::string text = kMinimal;
  text.replace(text.find("/etc/portico/ca"), 15, "keys/ca");
  auto r = parse_config(text, "/srv/portico");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  EXPECT_EQ(r.config->ssh_ca->private_key_file, "/srv/portico/keys/ca");
}

TEST(Durations, ParsesUnits) {
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("30s")->count(), 30'000);
  EXPECT_EQ(parse_duration("30")->count(), 30'000);
  EXPECT_EQ(parse_duration("5m")->count(), 300'000);
  EXPECT_EQ(parse_duration("1h")->count(), 3'600'000);
  EXPECT_FALSE(parse_duration("soon"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration(""));
}

TEST(Sizes, ParsesUnits) {
  EXPECT_EQ(*parse_size("1024"), 1024u);
  EXPECT_EQ(*parse_size("16KiB"), 16u * 1024);
  EXPECT_EQ(*parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(*parse_size("5MB"), 5'000'000u);
  EXPECT_FALSE(parse_size("1XB"));
  EXPECT_FALSE(parse_size("99999999999999999999"));
  EXPECT_FALSE(parse_size("20000000TiB"));
}

TEST(Config, SftpIsOnByDefaultAndCanBeSwitchedOff) {
  auto on = parse_config(kMinimal);
  ASSERT_TRUE(on.errors.empty()) << dump(on);
  EXPECT_TRUE(on.config->clusters[0].ssh.sftp);
  auto with = [](const std::string& value) {
    std::string text = kMinimal;
    text.replace(text.find("host_public_key"), 0, "sftp: " + value + ", ");
    return parse_config(text);
  };
  auto off = with("false");
  ASSERT_TRUE(off.errors.empty()) << dump(off);
  EXPECT_FALSE(off.config->clusters[0].ssh.sftp);
  auto bad = with("sometimes");
  EXPECT_TRUE(has_error(bad, "clusters[0].ssh.sftp", "true or false")) << dump(bad);
}

TEST(Config, PbsSchedulerIsAccepted) {
  std::string text = kMinimal;
  text.replace(text.find("    file_systems:"), 0, "    scheduler: {type: pbs}\n");
  auto r = parse_config(text);
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  EXPECT_EQ(r.config->clusters[0].scheduler.type, SchedulerType::pbs);
}

TEST(Config, SlurmRestSchedulerIsValidated) {
  auto with = [](const std::string& scheduler) {
    std::string text = kMinimal;
    text.replace(text.find("    file_systems:"), 0, "    scheduler: " + scheduler + "\n");
    return parse_config(text);
  };
  auto r = with("{type: slurm_rest, api_url: http://127.0.0.1:6820, jwt_key_file: /k}");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  EXPECT_EQ(r.config->clusters[0].scheduler.type, SchedulerType::slurm_rest);
  EXPECT_EQ(r.config->clusters[0].scheduler.api_version, "v0.0.38");
  r = with("{type: slurm_rest, api_url: http://x, api_version: v0.0.41, jwt_key_file: /k}");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  EXPECT_EQ(r.config->clusters[0].scheduler.api_version, "v0.0.41");
  EXPECT_TRUE(has_error(with("{type: slurm_rest, jwt_key_file: /k}"), "clusters[0].scheduler.api_url", ""));
  EXPECT_TRUE(has_error(with("{type: slurm_rest, api_url: http://x}"), "clusters[0].scheduler.jwt_key_file", ""));
  EXPECT_TRUE(has_error(with("{type: slurm_rest, api_url: 127.0.0.1:6820, jwt_key_file: /k}"),
                        "clusters[0].scheduler.api_url", "http"));
  for (const char* bad : {"0.0.38", "v0.0", "v0..38", "v0.0.38/../x", "v0.0.38?a"})
    EXPECT_TRUE(has_error(with(std::string("{type: slurm_rest, api_url: http://x, jwt_key_file: /k, api_version: \"") + bad + "\"}"),
                          "clusters[0].scheduler.api_version", "v0.0.38"))
        << bad;
}

TEST(Config, FacilityDefaultsToOneSiteNamedAfterIt) {
  auto r = parse_config(kMinimal);
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& f = r.config->facility;
  EXPECT_EQ(f.name, "Portico");
  ASSERT_EQ(f.sites.size(), 1u);
  EXPECT_EQ(f.sites[0].name, "Portico");
  EXPECT_EQ(f.event_retention, std::chrono::hours(24 * 90));
  auto names = resource_names(*r.config);
  std::vector<std::string> expected = {"Daint", "Daint scheduler", "Daint:/home", "Daint:/scratch", "portico"};
  EXPECT_EQ(names, expected);
}

TEST(Config, FacilitySectionIsReadAndChecked) {
  auto r = parse_config(std::string(kMinimal) + R"(
facility:
  name: Demo Centre
  short_name: DEMO
  organization: Demo Lab
  support_url: https://support.example.org
  public_base_url: https://api.example.org/
  trusted_proxies: [127.0.0.1]
  operators: [alice]
  event_retention: 30d
  sites:
    - name: Main
      clusters: [Daint]
      location: {country_name: Switzerland, latitude: 46.0, longitude: 8.9}
  resources:
    - {name: archive, resource_type: storage, probe: "test -d /archive"}
    - {name: portal, resource_type: website, status: up, site: Main}
  capabilities:
    - {name: Daint node hours, resource: Daint, units: [node_hours]}
    - {name: home quota, resource: "Daint:/home", units: [bytes, inodes]}
)");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& f = r.config->facility;
  EXPECT_EQ(f.public_base_url, "https://api.example.org");
  EXPECT_EQ(f.event_retention, std::chrono::hours(24 * 30));
  ASSERT_EQ(f.sites.size(), 1u);
  EXPECT_EQ(f.sites[0].latitude, 46.0);
  ASSERT_EQ(f.resources.size(), 2u);
  EXPECT_EQ(f.resources[0].probe, "test -d /archive");
  EXPECT_EQ(f.capabilities[1].units, (std::vector<std::string>{"bytes", "inodes"}));
}

TEST(Config, FacilityErrorsNameTheirKeys) {
  auto r = parse_config(std::string(kMinimal) + R"(
facility:
  support_url: support.example.org
  operators: [Not A User]
  event_retention: 10m
  sites:
    - name: Main
      clusters: [nowhere]
      location: {latitude: 123}
      colour: blue
  resources:
    - {name: archive, resource_type: tape}
    - {name: portico, status: sideways}
    - {name: x, status: up, site: Elsewhere}
  capabilities:
    - {name: c, resource: "Daint:/project", units: [furlongs]}
)");
  EXPECT_TRUE(has_error(r, "facility.support_url", "http")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.operators", "not a valid user name")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.event_retention", "at least")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.sites[0].clusters", "nowhere")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.sites[0].location.latitude", "-90..90")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.sites[0].colour", "unknown key")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.resources[0].resource_type", "tape")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.resources[0].probe", "either")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.resources[1].status", "sideways")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.resources[1].name", "another resource")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.resources[2].site", "Elsewhere")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.capabilities[0].resource", "Daint:/project")) << dump(r);
  EXPECT_TRUE(has_error(r, "facility.capabilities[0].units", "furlongs")) << dump(r);
}

TEST(Config, ComputeAllowListContainerRuntimeAndIdempotencyTtl) {
  auto r = parse_config(std::string(kMinimal) + R"(
    compute:
      custom_attributes: [slurm.constraint, slurm.begin, pbs.place]
      container_command: [apptainer, exec, "{mounts}", "{image}"]
facility:
  idempotency_ttl: 2h
)");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& co = r.config->clusters[0].compute;
  EXPECT_EQ(co.custom_attributes, (std::vector<std::string>{"slurm.constraint", "slurm.begin", "pbs.place"}));
  EXPECT_EQ(co.container_command.size(), 4u);
  EXPECT_EQ(co.mount_words, (std::vector<std::string>{"--bind", "{source}:{target}:{mode}"}));
  EXPECT_EQ(r.config->facility.idempotency_ttl, std::chrono::hours(2));

  auto defaults = parse_config(kMinimal);
  ASSERT_TRUE(defaults.errors.empty()) << dump(defaults);
  EXPECT_TRUE(defaults.config->clusters[0].compute.custom_attributes.empty());
  EXPECT_TRUE(defaults.config->clusters[0].compute.container_command.empty());
  EXPECT_EQ(defaults.config->facility.idempotency_ttl, std::chrono::hours(24));

  auto bad = parse_config(std::string(kMinimal) + R"(
    compute:
      custom_attributes: ["constraint", "slurm.--x", "slurm.a b"]
      container_command: ["{image}"]
facility:
  idempotency_ttl: 10s
)");
  EXPECT_TRUE(has_error(bad, "clusters[0].compute.custom_attributes", "\"constraint\"")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].compute.custom_attributes", "\"slurm.--x\"")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].compute.custom_attributes", "\"slurm.a b\"")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].compute.container_command", "first word")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "facility.idempotency_ttl", "at least 1m")) << dump(bad);
}

TEST(Config, QuotaCommandAndPbsProjects) {
  auto r = parse_config(R"(
auth: {issuer: http://127.0.0.1:9400, audience: a}
ssh_ca: {private_key_file: /etc/portico/ca}
clusters:
  - name: Daint
    ssh: {host: 127.0.0.1, port: 2222, host_public_key: "ssh-ed25519 AAAAC3Nza"}
    scheduler:
      type: pbs
      projects:
        - {name: climate, description: Climate, users: [alice, bob], node_hours: 1000, user_node_hours: 200}
        - {name: genomics, users: [alice]}
    file_systems:
      - {path: /home, data_type: users, quota_command: [site-quota, --user, "u={user}", /home]}
)");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& c = r.config->clusters[0];
  EXPECT_EQ(c.file_systems[0].quota_command,
            (std::vector<std::string>{"site-quota", "--user", "u={user}", "/home"}));
  ASSERT_EQ(c.scheduler.projects.size(), 2u);
  EXPECT_EQ(c.scheduler.projects[0].name, "climate");
  EXPECT_EQ(c.scheduler.projects[0].users, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(c.scheduler.projects[0].node_hours, 1000.0);
  EXPECT_EQ(c.scheduler.projects[0].user_node_hours, 200.0);
  EXPECT_FALSE(c.scheduler.projects[1].node_hours);
  EXPECT_TRUE(parse_config(kMinimal).config->clusters[0].file_systems[0].quota_command.empty());

  auto bad = parse_config(R"(
auth: {issuer: http://127.0.0.1:9400, audience: a}
ssh_ca: {private_key_file: /etc/portico/ca}
clusters:
  - name: Daint
    ssh: {host: 127.0.0.1, port: 2222, host_public_key: "ssh-ed25519 AAAAC3Nza"}
    scheduler:
      type: pbs
      projects:
        - {name: "a,b", users: [Alice], node_hours: -1}
        - {description: no name}
        - {name: x, colour: red}
    file_systems:
      - {path: /home, quota_command: ["{user}", x]}
      - {path: /scratch, quota_command: [quota, "{group}"]}
  - name: Eiger
    ssh: {host: 127.0.0.1, port: 2222, host_public_key: "ssh-ed25519 AAAAC3Nza"}
    scheduler: {type: slurm, projects: [{name: climate}]}
    file_systems: [{path: /home}]
)");
  EXPECT_TRUE(has_error(bad, "clusters[0].scheduler.projects[0].name", "\"a,b\"")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].scheduler.projects[0].users", "\"Alice\"")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].scheduler.projects[0].node_hours", "")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].scheduler.projects[1].name", "required")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].scheduler.projects[2].colour", "unknown key")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].file_systems[0].quota_command", "first word")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[0].file_systems[1].quota_command", "{group}")) << dump(bad);
  EXPECT_TRUE(has_error(bad, "clusters[1].scheduler.projects", "only for pbs")) << dump(bad);
}

TEST(Config, RateLimitsAndMetricsDefaults) {
  auto r = parse_config(kMinimal);
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& c = *r.config;
  EXPECT_TRUE(c.rate_limits.enabled);
  EXPECT_EQ(c.rate_limits.per_user.rate, 100);
  EXPECT_EQ(c.rate_limits.per_user.burst, 200);
  EXPECT_GT(c.rate_limits.per_address.rate, c.rate_limits.per_user.rate);
  EXPECT_FALSE(c.rate_limits.firecrest);
  EXPECT_FALSE(c.clusters[0].user_rate_limit);
  EXPECT_EQ(c.metrics.allow, (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
  EXPECT_EQ(c.metrics.port, 0);
  EXPECT_EQ(c.server.limits.min_upload_rate, 1024u);
}

TEST(Config, RateLimitsMetricsAndUploadRateAreRead) {
  auto r = parse_config(std::string(kMinimal) + R"(
    user_rate_limit: {rate: 0.5, burst: 3}
server:
  limits: {min_upload_rate: 4KiB}
rate_limits:
  per_address: {rate: 50, burst: 60}
  per_user: {rate: 5, burst: 10}
  apis:
    iri: {rate: 2, burst: 4}
  max_buckets: 1000
metrics:
  allow: [10.0.0.0/8, 192.0.2.7, "2001:db8::/32"]
  host: 127.0.0.1
  port: 9464
)");
  ASSERT_TRUE(r.errors.empty()) << dump(r);
  const auto& c = *r.config;
  EXPECT_EQ(c.rate_limits.per_address.rate, 50);
  EXPECT_EQ(c.rate_limits.per_user.burst, 10);
  ASSERT_TRUE(c.rate_limits.iri);
  EXPECT_EQ(c.rate_limits.iri->rate, 2);
  EXPECT_FALSE(c.rate_limits.firecrest);
  EXPECT_EQ(c.rate_limits.max_buckets, 1000u);
  ASSERT_TRUE(c.clusters[0].user_rate_limit);
  EXPECT_EQ(c.clusters[0].user_rate_limit->rate, 0.5);
  EXPECT_EQ(c.clusters[0].user_rate_limit->burst, 3);
  EXPECT_EQ(c.metrics.allow.size(), 3u);
  EXPECT_EQ(c.metrics.port, 9464);
  EXPECT_EQ(c.server.limits.min_upload_rate, 4096u);
}

TEST(Config, RateLimitAndMetricsErrorsNameTheirKeys) {
  auto r = parse_config(std::string(kMinimal) + R"(
    user_rate_limit: {rate: 1}
rate_limits:
  enabled: maybe
  per_address: {rate: 0, burst: 1}
  per_user: {rate: 1, burst: 0.5, per: second}
  apis: {firecrest: {rate: fast, burst: 1}, slurm: {rate: 1, burst: 1}}
  max_buckets: 10
metrics:
  allow: [10.0.0.0/33, "not an address", "::1/129"]
  host: 0.0.0.0
  port: 8080
)");
  EXPECT_FALSE(r.config);
  EXPECT_TRUE(has_error(r, "clusters[0].user_rate_limit.burst", "required")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.enabled", "true or false")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.per_address.rate", "above 0")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.per_user.burst", "integer")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.per_user.per", "unknown key")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.apis.firecrest.rate", "number")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.apis.slurm", "unknown key")) << dump(r);
  EXPECT_TRUE(has_error(r, "rate_limits.max_buckets", "100..")) << dump(r);
  EXPECT_EQ(std::count_if(r.errors.begin(), r.errors.end(), [](const ConfigError& e) { return e.key == "metrics.allow"; }), 3)
      << dump(r);
  EXPECT_TRUE(has_error(r, "metrics.host", "loopback")) << dump(r);
  EXPECT_TRUE(has_error(r, "metrics.port", "server.port")) << dump(r);
}

TEST(Config, TrustedProxiesAreAddresses) {
  auto ok = parse_config(std::string(kMinimal) + "facility: {trusted_proxies: [127.0.0.1, '::1']}\n");
  EXPECT_TRUE(ok.errors.empty()) << dump(ok);
  auto r = parse_config(std::string(kMinimal) + "facility: {trusted_proxies: [proxy.example.org, 10.0.0.0/8]}\n");
  EXPECT_EQ(std::count_if(r.errors.begin(), r.errors.end(),
                          [](const ConfigError& e) { return e.key == "facility.trusted_proxies"; }),
            2)
      << dump(r);
}

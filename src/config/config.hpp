#pragma once
// Portico's configuration: the typed model of the YAML file and its validation.
//
// load_config() never throws for bad content: it returns every problem it found, each naming
// the offending key by its path (e.g. "clusters[0].ssh.port"), so an operator fixes a file in
// one pass. Thread-safety: a Config is an immutable value once loaded.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace portico::config {

struct ConfigError {
  std::string key;      // path of the offending key, "" for the whole document
  std::string message;  // what is wrong and what is expected
};

struct Limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;  // JSON bodies; uploads have their own per-cluster cap
  // A buffered request body must arrive within request_timeout of its headers, and a reply (each
  // piece of a streamed one) be taken by the client within it: a client that stops reading is cut.
  std::chrono::milliseconds request_timeout{60'000};
  // A connection waits this long for a request, and the request's headers must be complete
  // within it (a header trickle is cut); a streamed body may stall this long at most.
  std::chrono::milliseconds idle_timeout{30'000};
  // A streamed body (an upload) must average at least this many bytes per second of the time the
  // server waits on the client, after idle_timeout of grace: a byte-at-a-time trickle is cut.
  std::size_t min_upload_rate = 1024;
  std::chrono::milliseconds shutdown_grace{10'000};
};

struct Tls {
  std::string cert_file;
  std::string key_file;
};

struct Server {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 0;  // 0 = one per core
  std::string api_root = "/";
  std::optional<Tls> tls;
  bool allow_plain_http_off_loopback = false;
  Limits limits;
};

struct Auth {
  std::string issuer;
  std::vector<std::string> audiences;
  std::string jwks_url;  // empty: taken from the issuer's OIDC discovery document
  std::string username_claim = "preferred_username";
  std::chrono::seconds leeway{30};
  std::chrono::seconds jwks_refresh{3600};
  std::size_t max_token_bytes = 16 * 1024;
};

// How Portico obtains an SSH credential for a user.
struct SshCa {
  std::string private_key_file;  // OpenSSH private key of the user CA that sshd trusts
  std::chrono::seconds cert_validity{300};
  // The gateway's addresses or networks (CIDR), as the clusters' sshd sees them: when set, each
  // certificate carries them as its source-address critical option, so a certificate taken
  // from Portico is of no use anywhere else.
  std::vector<std::string> source_addresses;
};

struct StaticKey {
  std::string user;
  std::string private_key_file;
  std::string certificate_file;  // optional
};

struct Ssh {
  std::string host;
  std::uint16_t port = 22;
  std::string host_public_key;  // "ssh-ed25519 AAAA..." or a path to a .pub file; required
  unsigned max_sessions_per_connection = 10;  // sshd MaxSessions
  unsigned max_connections_per_user = 4;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds command_timeout{60'000};
  std::chrono::milliseconds idle_timeout{120'000};
  std::chrono::milliseconds keepalive{30'000};
  std::size_t max_output_bytes = 5 * 1024 * 1024;
  // File operations that need no tool go over one SFTP session per connection (the server
  // falls back to commands by itself when it has no sftp subsystem); false: always commands.
  bool sftp = true;
};

enum class SchedulerType { slurm, slurm_rest, pbs };

// A project (scheduler account) as configuration declares it, for schedulers that cannot list
// them (PBS).
struct SchedulerProject {
  std::string name;  // the Account_Name jobs charge
  std::string description;
  std::vector<std::string> users;
  std::optional<double> node_hours;       // the project's allocation; none: no limit
  std::optional<double> user_node_hours;  // each user's; none: the project's limit applies
};

struct Scheduler {
  SchedulerType type = SchedulerType::slurm;
  std::string api_url;      // slurmrestd base URL (slurm_rest)
  std::string api_version;  // e.g. "v0.0.38"
  std::string jwt_key_file; // Slurm's jwt_key, to mint per-user Slurm tokens (slurm_rest)
  // PBS keeps no list of the accounts (projects) a user belongs to, nor limits a user can read:
  // they come from here (pbs only).
  std::vector<SchedulerProject> projects;
};

struct FileSystem {
  std::string path;
  std::string data_type = "users";  // users | store | archive | apps | scratch | project
  bool default_work_dir = false;
  // The user's quota on this file system, as argv words run as the user ("{user}" is replaced
  // by the user's name); it prints one line "<used bytes> <limit bytes> <used inodes> <limit
  // inodes>" (decimal, a limit of 0 meaning none). Empty: no storage allocations here.
  std::vector<std::string> quota_command = {};
};

struct Access {
  std::vector<std::string> users;
  std::vector<std::string> groups;
  std::vector<std::string> required_scopes;
  // Accounts never reached through the gateway, whatever the token says (root and the probe user
  // always are): no certificate is signed and no login made for them.
  std::vector<std::string> deny_users;
  // Accounts outside [min_uid, max_uid] are refused too: system accounts below, and above the
  // range login.defs gives users (Debian's package accounts such as slurm's 64030, nobody).
  std::uint32_t min_uid = 1000;
  std::uint32_t max_uid = 60000;
  // How long the account lookup (passwd entry, `id`: the access rule's groups and userinfo) of a
  // user is reused before it is asked again.
  std::chrono::seconds identity_ttl{60};
};

// How transfer jobs (cp, mv, rm, compress, extract, staged upload and download) are submitted.
struct Transfer {
  std::string partition;                  // partition (Slurm) or queue (PBS); "" = the default one
  std::chrono::seconds time_limit{3600};  // wall time of each transfer job
  // The account transfer jobs are charged to: "" = the user's default, "{account}" = the one the
  // request names (then required), or a fixed account name.
  std::string account;
  std::uint64_t max_part_bytes = 1024ull * 1024 * 1024;  // S3 part size: 5 MiB .. 5 GiB
  std::chrono::seconds upload_wait{3600};  // how long an upload may take before it is abandoned
  unsigned parallel_parts = 4;             // parts a download job sends to S3 at once
};

// How PSI/J jobs (the IRI compute API) are submitted on one cluster.
struct Compute {
  // The custom_attributes a job spec may carry, each "<scheduler>.<option>" (e.g.
  // "slurm.constraint", "pbs.place"): the value becomes that scheduler option of the job
  // (`--constraint=<value>`, `-l place=<value>`). Any other key is refused.
  std::vector<std::string> custom_attributes;
  // The container runtime, as argv words: "{image}" is replaced by the image, "{mounts}" by
  // mount_words once per volume mount (none configured: jobs with a container get 501).
  std::vector<std::string> container_command;
  // The words of one volume mount: "{source}", "{target}" and "{mode}" (ro|rw) are replaced.
  std::vector<std::string> mount_words = {"--bind", "{source}:{target}:{mode}"};
};

// A token bucket: `rate` requests per second on average, up to `burst` at once.
struct Rate {
  double rate = 0;
  double burst = 0;
};

// Requests over these limits are answered 429 with Retry-After (limits/token_buckets.hpp).
struct RateLimits {
  bool enabled = true;
  // Every request, by client address (IPv6 by /64; behind facility.trusted_proxies, the address
  // they forwarded), before anything else is done with it.
  Rate per_address{1000, 2000};
  // Each user's requests to one API, charged once the token is verified; `firecrest` and `iri`
  // replace it for their API.
  Rate per_user{100, 200};
  std::optional<Rate> firecrest;
  std::optional<Rate> iri;
  // Buckets kept per kind (addresses, each API's users, each cluster's users): beyond, the least
  // recently used is forgotten; a bucket that has refilled is forgotten anyway.
  std::size_t max_buckets = 65536;
};

// Who may read /metrics (others get 404, as for any unknown path), and where.
struct Metrics {
  std::vector<std::string> allow = {"127.0.0.0/8", "::1/128"};  // client addresses or CIDRs
  // port 0: /metrics is on the API's listener; else only on its own listener at host:port.
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

struct Cluster {
  std::string name;
  Ssh ssh;
  Scheduler scheduler;
  std::vector<FileSystem> file_systems;
  Access access;
  std::size_t max_upload_bytes = 1024ull * 1024 * 1024;
  std::size_t max_script_bytes = 1024 * 1024;  // an inline batch script
  Transfer transfer;
  Compute compute;
  // Health probes log in as this (service) user; without one, only unauthenticated checks run.
  std::string probe_user;
  std::chrono::milliseconds health_interval{30'000};
  std::chrono::milliseconds probe_timeout{10'000};
  // Each user's requests that name this cluster, in either API (rate_limits below); none: no
  // bucket of its own.
  std::optional<Rate> user_rate_limit;
};

// The S3 staging area of transfers.
struct S3 {
  std::string endpoint;         // reached by Portico and the cluster's transfer jobs
  std::string public_endpoint;  // reached by clients; "" = endpoint
  bool virtual_host = false;    // bucket.host addressing instead of host/bucket
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  std::string bucket;
  // Lifetime of the presigned URLs handed to clients (download) and written into transfer
  // jobs; upload part URLs last the cluster's transfer.upload_wait. At most 7 days (SigV4).
  std::chrono::seconds url_lifetime{24 * 3600};
  // Staged objects expire by a lifecycle rule set when Portico creates the bucket.
  unsigned object_lifetime_days = 7;
  // How often pending uploads are looked at (one HEAD request each).
  std::chrono::milliseconds poll_interval{2'000};
};

// Where Portico keeps what must survive a restart (pending transfers).
struct Store {
  std::string path = "portico.db";  // SQLite database file
};

// The IRI API's filesystem tasks (tasks/manager.hpp).
struct Tasks {
  std::size_t per_user = 8;                                   // a user's tasks running at once; more wait
  std::chrono::seconds retention{24 * 3600};                  // kept this long after they end
  std::size_t max_download_bytes = 5 * 1024 * 1024;           // a download's bytes in the result, beyond: a URI
  // cp, mv, rm, compress and extract run as a command for this long at most; one that takes
  // longer is stopped and taken over by a transfer job, which the task then follows.
  std::chrono::seconds direct_timeout{30};
};

// The facility the IRI API describes: who runs it, its sites, the resources beyond the clusters,
// what can be allocated on each resource, and who may declare maintenance.
struct FacilitySite {
  std::string name;
  std::string short_name;
  std::string description;
  std::string operating_organization;
  // location
  std::string country_name;
  std::string locality_name;
  std::string state_or_province_name;
  std::string street_address;
  std::string unlocode;
  std::optional<double> altitude;
  std::optional<double> latitude;
  std::optional<double> longitude;
  std::vector<std::string> clusters;  // clusters hosted here; unlisted ones are at the first site
};

// A resource Portico does not drive (an archive, a web portal), with a probe or a fixed status.
struct ExtraResource {
  std::string name;
  std::string description;
  std::string group;
  std::string resource_type = "service";  // website|service|compute|system|storage|network|unknown
  std::string site;                       // a site's name; "" = the first site
  std::string probe;                      // a /bin/sh command run by Portico: exit 0 = up
  std::string status;                     // a fixed status instead of a probe: up|down|degraded|unknown
  std::chrono::milliseconds probe_interval{30'000};
  std::chrono::milliseconds probe_timeout{10'000};
};

// What can be allocated on one resource (node_hours on a cluster, bytes and inodes on a file system).
struct Capability {
  std::string name;
  std::string description;
  std::string resource;                // a resource's name (see resource_names())
  std::vector<std::string> units;      // node_hours|bytes|inodes
};

struct Facility {
  std::string name = "Portico";
  std::string short_name;
  std::string description;
  std::string organization;
  std::string support_url;
  std::vector<FacilitySite> sites;  // never empty once loaded: a default site is named after the facility
  std::vector<ExtraResource> resources;
  std::vector<Capability> capabilities;
  std::vector<std::string> operators;  // user names allowed to declare incidents
  std::string public_base_url;         // e.g. "https://api.example.org"; "" = from the request's Host
  std::vector<std::string> trusted_proxies;  // addresses whose X-Forwarded-* headers are believed
  std::chrono::seconds event_retention{90 * 24 * 3600};
  // How long an Idempotency-Key of launchJob/updateJob is remembered.
  std::chrono::seconds idempotency_ttl{24 * 3600};
  // How long the PSI/J specification of an IRI job is kept for getJob (the job itself stays in
  // the scheduler's accounting).
  std::chrono::seconds job_spec_retention{90 * 24 * 3600};
};

struct Logging {
  std::string level = "info";     // trace|debug|info|warn|error|off
  std::string destination = "stderr";  // stderr | stdout | a file path
};

struct Config {
  Server server;
  Auth auth;
  std::optional<SshCa> ssh_ca;
  std::vector<StaticKey> static_keys;
  std::vector<Cluster> clusters;
  std::optional<S3> s3;
  Store store;
  Tasks tasks;
  Facility facility;
  Logging logging;
  RateLimits rate_limits;
  Metrics metrics;
};

// The names of the resources Portico derives from a configuration, in the order the facility
// lists them: per cluster its compute ("hpc"), scheduler ("hpc scheduler") and file systems
// ("hpc:/home"); the S3 staging service; the gateway itself; then the extra resources.
std::string scheduler_resource_name(const std::string& cluster);
std::string filesystem_resource_name(const std::string& cluster, const std::string& path);
extern const char* const kS3ResourceName;
extern const char* const kGatewayResourceName;
std::vector<std::string> resource_names(const Config& config);

struct LoadResult {
  std::optional<Config> config;  // set when errors is empty
  std::vector<ConfigError> errors;
};

// Parses and validates YAML text. Relative file paths are resolved against base_dir.
LoadResult parse_config(const std::string& yaml_text, const std::string& base_dir = ".");

// Reads the file, then parse_config() with the file's directory as base_dir.
LoadResult load_config(const std::string& path);

// Parses "250ms", "30s", "5m", "1h" or a bare number of seconds.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

// Parses "1024", "64KiB", "16MiB", "1GiB" (also KB/MB/GB as powers of 1000).
std::optional<std::uint64_t> parse_size(const std::string& text);

}  // namespace portico::config

#include "config/config.hpp"

#include <boost/asio/ip/address.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace portico::config {
namespace {

// Walks one YAML mapping, reading the keys the schema knows and reporting the others, so a
// misspelt key ("usename_claim") is an error instead of a silently ignored setting.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, std::vector<ConfigError>& errors)
      : node_(node), path_(std::move(path)), errors_(errors) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      error("", "expected a mapping");
      valid_ = false;
    }
  }

  ~Section() {
    if (!valid_ || !node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      auto key = kv.first.as<std::string>("");
      if (!seen_.count(key)) error(key, "unknown key");
    }
  }

  std::string key_path(const std::string& key) const {
    if (key.empty()) return path_;
    return path_.empty() ? key : path_ + "." + key;
  }

  void error(const std::string& key, const std::string& message) {
    errors_.push_back({key_path(key), message});
  }

  bool has(const std::string& key) {
    seen_.insert(key);
    return valid_ && node_ && node_.IsMap() && node_[key] && !node_[key].IsNull();
  }

  YAML::Node get(const std::string& key) {
    seen_.insert(key);
    return node_[key];
  }

  void require(const std::string& key) {
    if (!has(key)) error(key, "is required");
  }

  void string(const std::string& key, std::string& out) {
    if (!has(key)) return;
    auto n = get(key);
    if (!n.IsScalar()) return error(key, "expected a string");
    out = n.Scalar();
  }

  void boolean(const std::string& key, bool& out) {
    if (!has(key)) return;
    auto n = get(key);
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value))
      return error(key, "expected true or false, got \"" + scalar_text(n) + "\"");
    out = value;
  }

  template <typename Int>
  void integer(const std::string& key, Int& out, std::uint64_t min, std::uint64_t max) {
    if (!has(key)) return;
    auto n = get(key);
    auto text = scalar_text(n);
    std::uint64_t value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (!n.IsScalar() || ec != std::errc() || p != text.data() + text.size() || value < min ||
        value > max) {
      return error(key, "expected an integer in " + std::to_string(min) + ".." +
                            std::to_string(max) + ", got \"" + text + "\"");
    }
    out = static_cast<Int>(value);
  }

  template <typename Duration>
  void duration(const std::string& key, Duration& out) {
    if (!has(key)) return;
    auto text = scalar_text(get(key));
    auto d = parse_duration(text);
    if (!d || d->count() <= 0)
      return error(key, "expected a positive duration such as 250ms, 30s, 5m, got \"" + text + "\"");
    out = std::chrono::duration_cast<Duration>(*d);
    if (out.count() == 0) out = Duration(1);
  }

  void real(const std::string& key, std::optional<double>& out, double min, double max) {
    if (!has(key)) return;
    auto text = scalar_text(get(key));
    double value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || p != text.data() + text.size() || value < min || value > max)
      return error(key, "expected a number in " + fmt_number(min) + ".." + fmt_number(max) + ", got \"" + text + "\"");
    out = value;
  }

  void size(const std::string& key, std::size_t& out) {
    if (!has(key)) return;
    auto text = scalar_text(get(key));
    auto s = parse_size(text);
    if (!s || *s == 0) return error(key, "expected a positive size such as 16KiB or 1GiB, got \"" + text + "\"");
    out = *s;
  }

  void strings(const std::string& key, std::vector<std::string>& out) {
    if (!has(key)) return;
    auto n = get(key);
    if (n.IsScalar()) {
      out = {n.Scalar()};
      return;
    }
    if (!n.IsSequence()) return error(key, "expected a list of strings");
    out.clear();
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) return error(key + "[" + std::to_string(i) + "]", "expected a string");
      out.push_back(n[i].Scalar());
    }
  }

  // A file path, resolved against the directory of the configuration file.
  void path(const std::string& key, std::string& out, const std::string& base_dir) {
    string(key, out);
    if (!out.empty() && out.front() != '/') out = (std::filesystem::path(base_dir) / out).lexically_normal().string();
  }

 private:
  static std::string fmt_number(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }
  static std::string scalar_text(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : "<not a scalar>"; }

  YAML::Node node_;
  std::string path_;
  std::vector<ConfigError>& errors_;
  std::set<std::string> seen_;
  bool valid_ = true;
};

// {rate: requests per second, burst: requests at once}
void read_rate(Section& parent, const std::string& key, std::optional<Rate>& out, std::vector<ConfigError>& errors) {
  if (!parent.has(key)) return;
  Section r(parent.get(key), parent.key_path(key), errors);
  r.require("rate");
  r.require("burst");
  std::optional<double> rate;
  unsigned burst = 1;
  r.real("rate", rate, 0, 1e9);
  r.integer("burst", burst, 1, 1'000'000'000);
  if (rate && *rate <= 0) r.error("rate", "must be above 0 (to lift a limit, set rate_limits.enabled: false)");
  out = Rate{rate.value_or(1), static_cast<double>(burst)};
}

// "192.0.2.7", "10.0.0.0/8", "::1", "2001:db8::/32"
bool is_address_or_cidr(const std::string& text) {
  auto slash = text.find('/');
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(text.substr(0, slash), ec);
  if (ec) return false;
  if (slash == std::string::npos) return true;
  unsigned bits = 0;
  auto digits = std::string_view(text).substr(slash + 1);
  auto [p, e] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  return e == std::errc() && p == digits.data() + digits.size() && !digits.empty() && bits <= (address.is_v4() ? 32u : 128u);
}

bool is_loopback_host(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

// Unix user and group names as Portico accepts them anywhere (config, tokens, requests).
const std::regex kNamePattern("^[a-z_][a-z0-9_-]{0,31}$");
const std::regex kClusterNamePattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");

void read_server(Section& s, Server& server, const std::string& base_dir, std::vector<ConfigError>& errors) {
  s.string("host", server.host);
  s.integer("port", server.port, 1, 65535);
  s.integer("threads", server.threads, 0, 256);
  s.string("api_root", server.api_root);
  if (server.api_root.empty() || server.api_root.front() != '/')
    s.error("api_root", "must start with '/'");
  s.boolean("allow_plain_http_off_loopback", server.allow_plain_http_off_loopback);
  if (s.has("tls")) {
    Section t(s.get("tls"), s.key_path("tls"), errors);
    Tls tls;
    t.require("cert_file");
    t.require("key_file");
    t.path("cert_file", tls.cert_file, base_dir);
    t.path("key_file", tls.key_file, base_dir);
    server.tls = tls;
  }
  if (s.has("limits")) {
    Section l(s.get("limits"), s.key_path("limits"), errors);
    l.size("max_header_bytes", server.limits.max_header_bytes);
    l.size("max_body_bytes", server.limits.max_body_bytes);
    l.duration("request_timeout", server.limits.request_timeout);
    l.duration("idle_timeout", server.limits.idle_timeout);
    l.size("min_upload_rate", server.limits.min_upload_rate);
    l.duration("shutdown_grace", server.limits.shutdown_grace);
  }
  const bool loopback = is_loopback_host(server.host);
  if (!server.tls && !loopback && !server.allow_plain_http_off_loopback)
    s.error("host", "plain HTTP is only served on loopback; configure server.tls or set allow_plain_http_off_loopback");
}

void read_auth(Section& a, Auth& auth) {
  a.require("issuer");
  a.require("audience");
  a.string("issuer", auth.issuer);
  a.strings("audience", auth.audiences);
  a.string("jwks_url", auth.jwks_url);
  a.string("username_claim", auth.username_claim);
  a.duration("leeway", auth.leeway);
  a.duration("jwks_refresh", auth.jwks_refresh);
  a.size("max_token_bytes", auth.max_token_bytes);
  if (!auth.issuer.empty() && auth.issuer.rfind("https://", 0) != 0 && auth.issuer.rfind("http://", 0) != 0)
    a.error("issuer", "must be an http(s) URL");
}

void read_cluster(Section& c, Cluster& cluster, const std::string& base_dir, std::vector<ConfigError>& errors) {
  c.require("name");
  c.require("ssh");
  c.require("file_systems");
  c.string("name", cluster.name);
  if (!cluster.name.empty() && !std::regex_match(cluster.name, kClusterNamePattern))
    c.error("name", "must be letters, digits, '_', '.', '-' (at most 64)");
  c.size("max_upload_bytes", cluster.max_upload_bytes);
  c.size("max_script_bytes", cluster.max_script_bytes);
  c.duration("health_interval", cluster.health_interval);
  c.duration("probe_timeout", cluster.probe_timeout);
  c.string("probe_user", cluster.probe_user);
  if (!cluster.probe_user.empty() && !std::regex_match(cluster.probe_user, kNamePattern))
    c.error("probe_user", "\"" + cluster.probe_user + "\" is not a valid user name");
  read_rate(c, "user_rate_limit", cluster.user_rate_limit, errors);

  if (c.has("ssh")) {
    Section s(c.get("ssh"), c.key_path("ssh"), errors);
    s.require("host");
    s.require("host_public_key");
    s.string("host", cluster.ssh.host);
    s.integer("port", cluster.ssh.port, 1, 65535);
    s.string("host_public_key", cluster.ssh.host_public_key);
    auto& key = cluster.ssh.host_public_key;
    if (!key.empty() && key.rfind("ssh-", 0) != 0 && key.rfind("ecdsa-", 0) != 0) {
      // A path to a .pub file: pin its content now so a changed file cannot swap the key later.
      std::string file = key.front() == '/' ? key : (std::filesystem::path(base_dir) / key).string();
      std::ifstream in(file);
      std::string line;
      if (!in || !std::getline(in, line) || line.empty())
        s.error("host_public_key", "neither an OpenSSH public key nor a readable .pub file: " + file);
      else
        key = line;
    }
    s.integer("max_sessions_per_connection", cluster.ssh.max_sessions_per_connection, 1, 1000);
    s.integer("max_connections_per_user", cluster.ssh.max_connections_per_user, 1, 1000);
    s.duration("connect_timeout", cluster.ssh.connect_timeout);
    s.duration("command_timeout", cluster.ssh.command_timeout);
    s.duration("idle_timeout", cluster.ssh.idle_timeout);
    s.duration("keepalive", cluster.ssh.keepalive);
    s.size("max_output_bytes", cluster.ssh.max_output_bytes);
    s.boolean("sftp", cluster.ssh.sftp);
  }

  if (c.has("scheduler")) {
    Section s(c.get("scheduler"), c.key_path("scheduler"), errors);
    std::string type = "slurm";
    s.string("type", type);
    if (type == "slurm") cluster.scheduler.type = SchedulerType::slurm;
    else if (type == "slurm_rest") cluster.scheduler.type = SchedulerType::slurm_rest;
    else if (type == "pbs") cluster.scheduler.type = SchedulerType::pbs;
    else s.error("type", "expected slurm, slurm_rest or pbs, got \"" + type + "\"");
    s.string("api_url", cluster.scheduler.api_url);
    s.string("api_version", cluster.scheduler.api_version);
    s.path("jwt_key_file", cluster.scheduler.jwt_key_file, base_dir);
    if (s.has("projects")) {
      auto list = s.get("projects");
      if (cluster.scheduler.type != SchedulerType::pbs) {
        s.error("projects", "only for pbs: Slurm lists its accounts and limits itself");
      } else if (!list.IsSequence()) {
        s.error("projects", "expected a list");
      } else {
        static const std::regex project_name("^[A-Za-z0-9_.-]{1,64}$");
        for (std::size_t i = 0; i < list.size(); ++i) {
          Section p(list[i], s.key_path("projects") + "[" + std::to_string(i) + "]", errors);
          SchedulerProject project;
          p.require("name");
          p.string("name", project.name);
          if (!project.name.empty() && !std::regex_match(project.name, project_name))
            p.error("name", "expected 1-64 letters, digits, '_', '-' or '.', got \"" + project.name + "\"");
          for (std::size_t k = 0; k < i; ++k)
            if (cluster.scheduler.projects[k].name == project.name) p.error("name", "\"" + project.name + "\" is given twice");
          p.string("description", project.description);
          p.strings("users", project.users);
          for (const auto& u : project.users)
            if (!std::regex_match(u, kNamePattern)) p.error("users", "\"" + u + "\" is not a valid user name");
          p.real("node_hours", project.node_hours, 0, 1e15);
          p.real("user_node_hours", project.user_node_hours, 0, 1e15);
          cluster.scheduler.projects.push_back(std::move(project));
        }
      }
    }
    if (cluster.scheduler.type == SchedulerType::slurm_rest) {
      s.require("api_url");
      s.require("jwt_key_file");
      if (cluster.scheduler.api_version.empty()) cluster.scheduler.api_version = "v0.0.38";
      const auto& url = cluster.scheduler.api_url;
      if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
        s.error("api_url", "expected an http:// or https:// URL, got \"" + url + "\"");
      // It becomes a path segment of every call: "v" and three dot-separated numbers.
      const auto& v = cluster.scheduler.api_version;
      bool version_ok = v.size() >= 6 && v[0] == 'v' && std::count(v.begin(), v.end(), '.') == 2 &&
                        v.find("..") == std::string::npos && v.back() != '.' && v[1] != '.' &&
                        std::all_of(v.begin() + 1, v.end(), [](char ch) { return (ch >= '0' && ch <= '9') || ch == '.'; });
      if (!version_ok) s.error("api_version", "expected a slurmrestd API version such as v0.0.38, got \"" + v + "\"");
    }
  }

  if (c.has("file_systems")) {
    auto list = c.get("file_systems");
    if (!list.IsSequence() || list.size() == 0) {
      c.error("file_systems", "expected a non-empty list");
    } else {
      for (std::size_t i = 0; i < list.size(); ++i) {
        Section f(list[i], c.key_path("file_systems") + "[" + std::to_string(i) + "]", errors);
        FileSystem fs;
        f.require("path");
        f.string("path", fs.path);
        f.string("data_type", fs.data_type);
        f.boolean("default_work_dir", fs.default_work_dir);
        f.strings("quota_command", fs.quota_command);
        if (!fs.quota_command.empty()) {
          if (fs.quota_command.front().empty() || fs.quota_command.front().find('{') != std::string::npos)
            f.error("quota_command", "the first word must be the command, not a placeholder");
          for (const auto& w : fs.quota_command) {
            auto rest = w;
            for (auto at = rest.find("{user}"); at != std::string::npos; at = rest.find("{user}")) rest.erase(at, 6);
            if (rest.find_first_of("{}") != std::string::npos || w.find('\0') != std::string::npos) {
              f.error("quota_command", "\"" + w + "\": the only placeholder is {user}");
              break;
            }
          }
        }
        if (!fs.path.empty()) {
          auto normal = std::filesystem::path(fs.path).lexically_normal().string();
          if (fs.path.front() != '/' || fs.path.find('\0') != std::string::npos)
            f.error("path", "must be an absolute path");
          else if (normal == "/")
            f.error("path", "must not be '/': confine users to real file systems");
          while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
          fs.path = normal;
        }
        cluster.file_systems.push_back(std::move(fs));
      }
    }
  }

  if (c.has("transfer")) {
    Section t(c.get("transfer"), c.key_path("transfer"), errors);
    auto& tr = cluster.transfer;
    t.string("partition", tr.partition);
    t.duration("time_limit", tr.time_limit);
    t.string("account", tr.account);
    t.size("max_part_bytes", tr.max_part_bytes);
    t.duration("upload_wait", tr.upload_wait);
    t.integer("parallel_parts", tr.parallel_parts, 1, 64);
    // S3's own bounds on a part of a multipart upload.
    if (tr.max_part_bytes < 5ull * 1024 * 1024 || tr.max_part_bytes > 5ull * 1024 * 1024 * 1024)
      t.error("max_part_bytes", "S3 parts are 5MiB to 5GiB");
    if (tr.time_limit < std::chrono::seconds(60)) t.error("time_limit", "must be at least 1m");
    if (tr.upload_wait < std::chrono::seconds(10) || tr.upload_wait > std::chrono::seconds(604800))
      t.error("upload_wait", "must be between 10s and 7 days");
    if (!tr.account.empty() && tr.account != "{account}" && !std::regex_match(tr.account, kNamePattern))
      t.error("account", "expected \"{account}\" or an account name, got \"" + tr.account + "\"");
    if (tr.partition.find_first_of(" ,\n") != std::string::npos) t.error("partition", "must be one partition name");
  }

  if (c.has("compute")) {
    Section k(c.get("compute"), c.key_path("compute"), errors);
    auto& co = cluster.compute;
    k.strings("custom_attributes", co.custom_attributes);
    static const std::regex attribute("^(slurm|pbs)\\.[A-Za-z][A-Za-z0-9_-]{0,63}$");
    for (const auto& a : co.custom_attributes)
      if (!std::regex_match(a, attribute))
        k.error("custom_attributes", "\"" + a + "\" is not <slurm|pbs>.<option name>");
    k.strings("container_command", co.container_command);
    k.strings("mount_words", co.mount_words);
    if (!co.container_command.empty()) {
      bool image = false;
      for (const auto& w : co.container_command) image = image || w.find("{image}") != std::string::npos;
      if (!image) k.error("container_command", "must contain {image}");
      if (co.container_command.front().find('{') != std::string::npos)
        k.error("container_command", "the first word must be the runtime, not a placeholder");
    }
  }

  if (c.has("access")) {
    Section a(c.get("access"), c.key_path("access"), errors);
    a.strings("users", cluster.access.users);
    a.strings("groups", cluster.access.groups);
    a.strings("required_scopes", cluster.access.required_scopes);
    a.strings("deny_users", cluster.access.deny_users);
    a.integer("min_uid", cluster.access.min_uid, 0, 4294967294u);
    a.integer("max_uid", cluster.access.max_uid, 0, 4294967294u);
    if (cluster.access.max_uid < cluster.access.min_uid) a.error("max_uid", "must not be below min_uid");
    a.duration("identity_ttl", cluster.access.identity_ttl);
    if (cluster.access.identity_ttl > std::chrono::hours(1)) a.error("identity_ttl", "must be at most 1h");
    for (const auto& u : cluster.access.deny_users)
      if (!std::regex_match(u, kNamePattern)) a.error("deny_users", "\"" + u + "\" is not a valid user name");
    for (const auto& u : cluster.access.users)
      if (u != "*" && !std::regex_match(u, kNamePattern)) a.error("users", "\"" + u + "\" is not a valid user name");
    for (const auto& g : cluster.access.groups)
      if (!std::regex_match(g, kNamePattern)) a.error("groups", "\"" + g + "\" is not a valid group name");
  }
}

const std::set<std::string> kStatuses = {"up", "down", "degraded", "unknown"};
const std::set<std::string> kResourceTypes = {"website", "service", "compute", "system", "storage", "network", "unknown"};
const std::set<std::string> kUnits = {"node_hours", "bytes", "inodes"};

bool is_http_url(const std::string& url) {
  return (url.starts_with("http://") && url.size() > 7) || (url.starts_with("https://") && url.size() > 8);
}

void read_facility(Section& f, Config& cfg, std::vector<ConfigError>& errors) {
  auto& fac = cfg.facility;
  f.string("name", fac.name);
  if (fac.name.empty()) f.error("name", "must not be empty");
  f.string("short_name", fac.short_name);
  f.string("description", fac.description);
  f.string("organization", fac.organization);
  f.string("support_url", fac.support_url);
  if (!fac.support_url.empty() && !is_http_url(fac.support_url))
    f.error("support_url", "expected an http:// or https:// URL, got \"" + fac.support_url + "\"");
  f.string("public_base_url", fac.public_base_url);
  while (!fac.public_base_url.empty() && fac.public_base_url.back() == '/') fac.public_base_url.pop_back();
  if (!fac.public_base_url.empty() && !is_http_url(fac.public_base_url))
    f.error("public_base_url", "expected an http:// or https:// URL, got \"" + fac.public_base_url + "\"");
  f.strings("trusted_proxies", fac.trusted_proxies);
  for (const auto& p : fac.trusted_proxies)
    if (!is_address_or_cidr(p) || p.find('/') != std::string::npos) f.error("trusted_proxies", "\"" + p + "\" is not an IP address");
  f.strings("operators", fac.operators);
  for (const auto& o : fac.operators)
    if (!std::regex_match(o, kNamePattern)) f.error("operators", "\"" + o + "\" is not a valid user name");
  f.duration("event_retention", fac.event_retention);
  if (fac.event_retention < std::chrono::seconds(3600)) f.error("event_retention", "must be at least 1h");
  f.duration("idempotency_ttl", fac.idempotency_ttl);
  if (fac.idempotency_ttl < std::chrono::seconds(60)) f.error("idempotency_ttl", "must be at least 1m");
  f.duration("job_spec_retention", fac.job_spec_retention);
  if (fac.job_spec_retention < std::chrono::seconds(3600)) f.error("job_spec_retention", "must be at least 1h");

  if (f.has("sites")) {
    auto list = f.get("sites");
    if (!list.IsSequence()) f.error("sites", "expected a list");
    else
      for (std::size_t i = 0; i < list.size(); ++i) {
        Section s(list[i], f.key_path("sites") + "[" + std::to_string(i) + "]", errors);
        FacilitySite site;
        s.require("name");
        s.string("name", site.name);
        s.string("short_name", site.short_name);
        s.string("description", site.description);
        s.string("operating_organization", site.operating_organization);
        s.strings("clusters", site.clusters);
        if (s.has("location")) {
          Section l(s.get("location"), s.key_path("location"), errors);
          l.string("country_name", site.country_name);
          l.string("locality_name", site.locality_name);
          l.string("state_or_province_name", site.state_or_province_name);
          l.string("street_address", site.street_address);
          l.string("unlocode", site.unlocode);
          l.real("altitude", site.altitude, -1e4, 1e5);
          l.real("latitude", site.latitude, -90, 90);
          l.real("longitude", site.longitude, -180, 180);
        }
        for (std::size_t k = 0; k < site.clusters.size(); ++k) {
          bool known = std::any_of(cfg.clusters.begin(), cfg.clusters.end(),
                                   [&](const Cluster& c) { return c.name == site.clusters[k]; });
          if (!known) s.error("clusters", "\"" + site.clusters[k] + "\" is not a configured cluster");
        }
        for (const auto& other : fac.sites)
          if (other.name == site.name) s.error("name", "duplicate site name \"" + site.name + "\"");
        fac.sites.push_back(std::move(site));
      }
  }
  if (fac.sites.empty()) {
    FacilitySite site;
    site.name = fac.name;
    site.operating_organization = fac.organization;
    fac.sites.push_back(std::move(site));
  }

  if (f.has("resources")) {
    auto list = f.get("resources");
    if (!list.IsSequence()) f.error("resources", "expected a list");
    else
      for (std::size_t i = 0; i < list.size(); ++i) {
        Section r(list[i], f.key_path("resources") + "[" + std::to_string(i) + "]", errors);
        ExtraResource res;
        r.require("name");
        r.string("name", res.name);
        r.string("description", res.description);
        r.string("group", res.group);
        r.string("resource_type", res.resource_type);
        r.string("site", res.site);
        r.string("probe", res.probe);
        r.string("status", res.status);
        r.duration("probe_interval", res.probe_interval);
        r.duration("probe_timeout", res.probe_timeout);
        if (!kResourceTypes.count(res.resource_type))
          r.error("resource_type", "expected website, service, compute, system, storage, network or unknown, got \"" +
                                       res.resource_type + "\"");
        if (res.probe.empty() == res.status.empty()) r.error("probe", "give either a probe command or a fixed status");
        if (!res.status.empty() && !kStatuses.count(res.status))
          r.error("status", "expected up, down, degraded or unknown, got \"" + res.status + "\"");
        if (!res.site.empty() && std::none_of(fac.sites.begin(), fac.sites.end(),
                                              [&](const FacilitySite& s) { return s.name == res.site; }))
          r.error("site", "\"" + res.site + "\" is not a site of facility.sites");
        fac.resources.push_back(std::move(res));
      }
  }

  if (f.has("capabilities")) {
    auto list = f.get("capabilities");
    if (!list.IsSequence()) f.error("capabilities", "expected a list");
    else
      for (std::size_t i = 0; i < list.size(); ++i) {
        Section c(list[i], f.key_path("capabilities") + "[" + std::to_string(i) + "]", errors);
        Capability cap;
        c.require("name");
        c.require("resource");
        c.require("units");
        c.string("name", cap.name);
        c.string("description", cap.description);
        c.string("resource", cap.resource);
        c.strings("units", cap.units);
        for (const auto& u : cap.units)
          if (!kUnits.count(u)) c.error("units", "expected node_hours, bytes or inodes, got \"" + u + "\"");
        for (const auto& other : fac.capabilities)
          if (other.name == cap.name) c.error("name", "duplicate capability name \"" + cap.name + "\"");
        fac.capabilities.push_back(std::move(cap));
      }
  }
}

// Names must tell resources apart: their ids are made from them.
void check_resource_names(const Config& cfg, std::vector<ConfigError>& errors) {
  auto names = resource_names(cfg);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < cfg.facility.resources.size(); ++i) {
    const auto& name = cfg.facility.resources[i].name;
    if (std::count(names.begin(), names.end(), name) > 1)
      errors.push_back({"facility.resources[" + std::to_string(i) + "].name",
                        "\"" + name + "\" is already the name of another resource"});
  }
  for (std::size_t i = 0; i < cfg.facility.capabilities.size(); ++i) {
    const auto& r = cfg.facility.capabilities[i].resource;
    if (!r.empty() && std::find(names.begin(), names.end(), r) == names.end())
      errors.push_back({"facility.capabilities[" + std::to_string(i) + "].resource",
                        "\"" + r + "\" is not a resource; known: " + [&] {
                          std::string all;
                          for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
                          return all;
                        }()});
  }
}

}  // namespace

const char* const kS3ResourceName = "s3 staging";
const char* const kGatewayResourceName = "portico";

std::string scheduler_resource_name(const std::string& cluster) { return cluster + " scheduler"; }
std::string filesystem_resource_name(const std::string& cluster, const std::string& path) { return cluster + ":" + path; }

std::vector<std::string> resource_names(const Config& config) {
  std::vector<std::string> out;
  for (const auto& c : config.clusters) {
    out.push_back(c.name);
    out.push_back(scheduler_resource_name(c.name));
    for (const auto& fs : c.file_systems) out.push_back(filesystem_resource_name(c.name, fs.path));
  }
  if (config.s3) out.push_back(kS3ResourceName);
  out.push_back(kGatewayResourceName);
  for (const auto& r : config.facility.resources) out.push_back(r.name);
  return out;
}

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string unit(p, end);
  double ms;
  if (unit.empty() || unit == "s") ms = value * 1000;
  else if (unit == "ms") ms = value;
  else if (unit == "m" || unit == "min") ms = value * 60'000;
  else if (unit == "h") ms = value * 3'600'000;
  else if (unit == "d") ms = value * 86'400'000;
  else return std::nullopt;
  if (ms > 1e12) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc()) return std::nullopt;
  std::string unit(p, end);
  static const std::pair<const char*, std::uint64_t> units[] = {
      {"", 1},           {"B", 1},
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
      {"KB", 1000},      {"MB", 1000'000},  {"GB", 1000'000'000}, {"TB", 1000'000'000'000}};
  for (auto [name, factor] : units) {
    if (unit == name) {
      if (value > UINT64_MAX / factor) return std::nullopt;
      return value * factor;
    }
  }
  return std::nullopt;
}

LoadResult parse_config(const std::string& yaml_text, const std::string& base_dir) {
  LoadResult result;
  auto& errors = result.errors;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    errors.push_back({"", std::string("not valid YAML: ") + e.what()});
    return result;
  }
  if (!root.IsMap()) {
    errors.push_back({"", "expected a mapping at the top level"});
    return result;
  }

  Config cfg;
  cfg.store.path = (std::filesystem::path(base_dir) / cfg.store.path).lexically_normal().string();
  {
    Section top(root, "", errors);
    top.require("auth");
    top.require("clusters");
    if (top.has("server")) {
      Section s(top.get("server"), "server", errors);
      read_server(s, cfg.server, base_dir, errors);
    }
    if (top.has("auth")) {
      Section a(top.get("auth"), "auth", errors);
      read_auth(a, cfg.auth);
    }
    if (top.has("ssh_ca")) {
      Section s(top.get("ssh_ca"), "ssh_ca", errors);
      SshCa ca;
      s.require("private_key_file");
      s.path("private_key_file", ca.private_key_file, base_dir);
      s.duration("cert_validity", ca.cert_validity);
      if (ca.cert_validity < std::chrono::seconds(60))
        s.error("cert_validity", "must be at least 60s so a certificate outlives one request");
      s.strings("source_addresses", ca.source_addresses);
      for (const auto& a : ca.source_addresses)
        if (!is_address_or_cidr(a))
          s.error("source_addresses", "'" + a.substr(0, 64) + "' is not an IP address or a network (address/bits)");
      cfg.ssh_ca = ca;
    }
    if (top.has("static_keys")) {
      auto list = top.get("static_keys");
      if (!list.IsSequence()) top.error("static_keys", "expected a list");
      else
        for (std::size_t i = 0; i < list.size(); ++i) {
          Section k(list[i], "static_keys[" + std::to_string(i) + "]", errors);
          StaticKey key;
          k.require("user");
          k.require("private_key_file");
          k.string("user", key.user);
          k.path("private_key_file", key.private_key_file, base_dir);
          k.path("certificate_file", key.certificate_file, base_dir);
          if (!key.user.empty() && !std::regex_match(key.user, kNamePattern))
            k.error("user", "\"" + key.user + "\" is not a valid user name");
          cfg.static_keys.push_back(std::move(key));
        }
    }
    if (top.has("clusters")) {
      auto list = top.get("clusters");
      if (!list.IsSequence() || list.size() == 0) {
        top.error("clusters", "expected a non-empty list");
      } else {
        std::set<std::string> names;
        for (std::size_t i = 0; i < list.size(); ++i) {
          std::string path = "clusters[" + std::to_string(i) + "]";
          Section c(list[i], path, errors);
          Cluster cluster;
          read_cluster(c, cluster, base_dir, errors);
          std::string lower = cluster.name;
          std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
          // Cluster names are matched case-insensitively in URLs, so they must differ that way too.
          if (!lower.empty() && !names.insert(lower).second)
            c.error("name", "duplicate cluster name \"" + cluster.name + "\" (names are case-insensitive)");
          cfg.clusters.push_back(std::move(cluster));
        }
      }
    }
    if (top.has("s3")) {
      Section s(top.get("s3"), "s3", errors);
      S3 s3;
      for (auto key : {"endpoint", "access_key_id", "secret_access_key", "bucket"}) s.require(key);
      s.string("endpoint", s3.endpoint);
      s.string("region", s3.region);
      s.string("access_key_id", s3.access_key_id);
      s.string("secret_access_key", s3.secret_access_key);
      s.string("bucket", s3.bucket);
      s.string("public_endpoint", s3.public_endpoint);
      std::string addressing = "path";
      s.string("addressing", addressing);
      if (addressing == "virtual") s3.virtual_host = true;
      else if (addressing != "path") s.error("addressing", "expected path or virtual, got \"" + addressing + "\"");
      for (const auto* key : {"endpoint", "public_endpoint"}) {
        const auto& url = std::string_view(key) == "endpoint" ? s3.endpoint : s3.public_endpoint;
        if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
          s.error(key, "expected an http:// or https:// URL, got \"" + url + "\"");
      }
      if (s3.public_endpoint.empty()) s3.public_endpoint = s3.endpoint;
      s.duration("url_lifetime", s3.url_lifetime);
      if (s3.url_lifetime < std::chrono::seconds(60) || s3.url_lifetime > std::chrono::seconds(604800))
        s.error("url_lifetime", "must be between 1m and 7 days (the longest a SigV4 signature lasts)");
      s.integer("object_lifetime_days", s3.object_lifetime_days, 1, 3650);
      s.duration("poll_interval", s3.poll_interval);
      if (s3.poll_interval < std::chrono::milliseconds(100)) s.error("poll_interval", "must be at least 100ms");
      cfg.s3 = s3;
    }
    if (top.has("store")) {
      Section s(top.get("store"), "store", errors);
      s.path("path", cfg.store.path, base_dir);
    }
    if (top.has("tasks")) {
      Section t(top.get("tasks"), "tasks", errors);
      t.integer("per_user", cfg.tasks.per_user, 1, 1024);
      t.duration("retention", cfg.tasks.retention);
      if (cfg.tasks.retention < std::chrono::seconds(60)) t.error("retention", "must be at least 1m");
      t.size("max_download_bytes", cfg.tasks.max_download_bytes);
      if (cfg.tasks.max_download_bytes > 64 * 1024 * 1024)
        t.error("max_download_bytes", "must be at most 64MiB (the result is kept in the store, base64)");
      t.duration("direct_timeout", cfg.tasks.direct_timeout);
      if (cfg.tasks.direct_timeout < std::chrono::seconds(1) || cfg.tasks.direct_timeout > std::chrono::hours(1))
        t.error("direct_timeout", "must be between 1s and 1h");
    }
    {
      // Read after the clusters and s3, whose resources it names; defaults without the section.
      Section f(top.has("facility") ? top.get("facility") : YAML::Node(), "facility", errors);
      read_facility(f, cfg, errors);
      check_resource_names(cfg, errors);
    }
    if (top.has("rate_limits")) {
      Section r(top.get("rate_limits"), "rate_limits", errors);
      auto& rl = cfg.rate_limits;
      r.boolean("enabled", rl.enabled);
      std::optional<Rate> per_address, per_user;
      read_rate(r, "per_address", per_address, errors);
      read_rate(r, "per_user", per_user, errors);
      rl.per_address = per_address.value_or(rl.per_address);
      rl.per_user = per_user.value_or(rl.per_user);
      if (r.has("apis")) {
        Section a(r.get("apis"), r.key_path("apis"), errors);
        read_rate(a, "firecrest", rl.firecrest, errors);
        read_rate(a, "iri", rl.iri, errors);
      }
      r.integer("max_buckets", rl.max_buckets, 100, 100'000'000);
    }
    if (top.has("metrics")) {
      Section m(top.get("metrics"), "metrics", errors);
      auto& mc = cfg.metrics;
      m.strings("allow", mc.allow);
      for (const auto& a : mc.allow)
        if (!is_address_or_cidr(a)) m.error("allow", "\"" + a + "\" is neither an IP address nor a CIDR such as 10.0.0.0/8");
      m.string("host", mc.host);
      m.integer("port", mc.port, 1, 65535);
      boost::system::error_code ec;
      boost::asio::ip::make_address(mc.host == "localhost" ? "127.0.0.1" : mc.host, ec);
      if (ec) m.error("host", "not an IP address: " + mc.host);
      else if (mc.port && !cfg.server.tls && !is_loopback_host(mc.host) && !cfg.server.allow_plain_http_off_loopback)
        m.error("host", "plain HTTP is only served on loopback; configure server.tls or set server.allow_plain_http_off_loopback");
      if (mc.port && mc.port == cfg.server.port) m.error("port", "must differ from server.port");
    }
    if (top.has("logging")) {
      Section l(top.get("logging"), "logging", errors);
      l.string("level", cfg.logging.level);
      l.string("destination", cfg.logging.destination);
      static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "off"};
      if (!levels.count(cfg.logging.level))
        l.error("level", "expected one of trace, debug, info, warn, error, off");
    }
    bool has_credentials = cfg.ssh_ca.has_value() || !cfg.static_keys.empty();
    if (!has_credentials && top.has("clusters"))
      top.error("ssh_ca", "configure ssh_ca or static_keys: Portico needs a way to log in as users");
  }
  if (errors.empty()) result.config = std::move(cfg);
  return result;
}

LoadResult load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, {{"", "cannot read configuration file " + path}}};
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto base = std::filesystem::absolute(path).parent_path().string();
  return parse_config(buffer.str(), base);
}

}  // namespace portico::config

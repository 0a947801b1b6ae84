#include "app/gateway.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>

#include <thread>

#include "api/firecrest/api.hpp"
#include "api/iri/api.hpp"
#include "app/openapi_document.hpp"
#include "auth/authenticator.hpp"
#include "auth/jwks_cache.hpp"
#include "cluster/cluster.hpp"
#include "core/time.hpp"
#include "facility/extra_probes.hpp"
#include "facility/model.hpp"
#include "facility/observations.hpp"
#include "facility/status_book.hpp"
#include "http/client_address.hpp"
#include "http/server.hpp"
#include "limits/rate_limits.hpp"
#include "net/http_client.hpp"
#include "observe/audit.hpp"
#include "observe/metrics.hpp"
#include "portico/version.hpp"
#include "s3/client.hpp"
#include "ssh/credentials.hpp"
#include "store/store.hpp"
#include "tasks/manager.hpp"
#include "transfer/transfers.hpp"

namespace portico::app {

namespace asio = boost::asio;

namespace {

// Splits a request target into the path below the API root and the query string; false when
// the path is not under the root.
bool split_target(std::string_view target, std::string_view root, std::string_view& path, std::string_view& query) {
  auto q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (root == "/") return true;
  if (path.substr(0, root.size()) != root) return false;
  path.remove_prefix(root.size());
  if (!path.empty() && path.front() != '/') return false;
  return true;
}

// Starts and ends planned windows and forgets old events, once a second; forgets IRI job
// specifications past their retention once a minute.
asio::awaitable<void> housekeep(facility::StatusBook& book, store::Store& store, std::chrono::seconds job_spec_retention,
                                std::shared_ptr<asio::steady_timer> timer) {
  for (unsigned tick = 0;; ++tick) {
    try {
      book.tick(core::now_millis());
    } catch (const std::exception& e) {
      spdlog::error("facility: {}", e.what());
    }
    if (tick % 60 == 0) {
      try {
        const auto before = core::now_millis() / 1000 - job_spec_retention.count();
        if (auto n = store.remove_job_specs_before(before)) spdlog::info("compute: forgot {} job specifications", n);
      } catch (const std::exception& e) {
        spdlog::error("compute: cannot forget old job specifications: {}", e.what());
      }
    }
    timer->expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

void add_collectors(observe::Metrics& metrics, cluster::Clusters& clusters) {
  metrics.add_collector(
      "# HELP portico_ssh_connections Open SSH connections per cluster.\n# TYPE portico_ssh_connections gauge",
      [&clusters](std::string& out) {
        for (const auto& c : clusters.all())
          out += "portico_ssh_connections{cluster=\"" + observe::label_value(c->name()) + "\"} " +
                 std::to_string(c->pool().stats().connections) + "\n";
      });
  metrics.add_collector(
      "# HELP portico_ssh_channels_in_use SSH channels in use per cluster.\n# TYPE portico_ssh_channels_in_use gauge",
      [&clusters](std::string& out) {
        for (const auto& c : clusters.all())
          out += "portico_ssh_channels_in_use{cluster=\"" + observe::label_value(c->name()) + "\"} " +
                 std::to_string(c->pool().stats().channels_in_use) + "\n";
      });
  metrics.add_collector(
      "# HELP portico_service_healthy 1 when the last probe of a backend service succeeded.\n# TYPE portico_service_healthy gauge",
      [&clusters](std::string& out) {
        for (const auto& c : clusters.all())
          for (const auto& s : c->health().snapshot()->services)
            out += "portico_service_healthy{cluster=\"" + observe::label_value(c->name()) + "\",service=\"" +
                   status::to_string(s.type) + "\",path=\"" + observe::label_value(s.path) + "\"} " + (s.healthy ? "1" : "0") +
                   "\n";
      });
}

void add_limit_collectors(observe::Metrics& metrics, const limits::RateLimits& limits, cluster::Clusters& clusters) {
  // Each bucket set as (limit, scope): per_address "", per_user <api>, cluster_user <cluster>.
  auto each = [&limits, &clusters](const std::function<void(const char*, const std::string&, const limits::TokenBuckets&)>& f) {
    if (const auto* b = limits.addresses()) f("per_address", "", *b);
    if (const auto* b = limits.users(limits::Api::firecrest)) f("per_user", "firecrest", *b);
    if (const auto* b = limits.users(limits::Api::iri)) f("per_user", "iri", *b);
    for (const auto& c : clusters.all())
      if (const auto* b = c->user_rate_limit()) f("cluster_user", c->name(), *b);
  };
  metrics.add_collector(
      "# HELP portico_rate_limited_total Requests refused with 429 by a rate limit (per client address, per user of an API, per user of a cluster).\n"
      "# TYPE portico_rate_limited_total counter",
      [each](std::string& out) {
        each([&out](const char* limit, const std::string& scope, const limits::TokenBuckets& b) {
          out += std::string("portico_rate_limited_total{limit=\"") + limit + "\",scope=\"" + observe::label_value(scope) +
                 "\"} " + std::to_string(b.refused()) + "\n";
        });
      });
  metrics.add_collector(
      "# HELP portico_rate_limit_buckets Token buckets kept (bounded by rate_limits.max_buckets).\n"
      "# TYPE portico_rate_limit_buckets gauge",
      [each](std::string& out) {
        each([&out](const char* limit, const std::string& scope, const limits::TokenBuckets& b) {
          out += std::string("portico_rate_limit_buckets{limit=\"") + limit + "\",scope=\"" + observe::label_value(scope) +
                 "\"} " + std::to_string(b.size()) + "\n";
        });
      });
}

// Every connection is a descriptor: thousands of slow or idle clients must not run into a soft
// limit of 1024 while the hard limit allows far more.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const auto before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0)
    spdlog::info("open files: soft limit raised from {} to the hard limit {}", before, limit.rlim_max);
  else
    spdlog::warn("open files: cannot raise the soft limit {} to {}: {}", before, limit.rlim_max, std::strerror(errno));
}

}  // namespace

int run_gateway(const config::Config& config) {
  observe::setup_logging(config.logging.level, config.logging.destination);
  raise_open_file_limit();
  const unsigned threads = config.server.threads ? config.server.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context ioc(static_cast<int>(threads));

  auto http_client = std::make_shared<const net::HttpClient>();
  auto keys = auth::JwksCache::create(asio::make_strand(ioc), auth::JwksCache::Options::from(config.auth), http_client);
  keys->start();
  auth::Authenticator authenticator(keys, config.auth);

  std::unique_ptr<store::Store> store;
  try {
    store = store::open_sqlite(config.store.path);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }

  // The facility: its model from configuration, its incidents and events from the health rounds.
  auto model = facility::build_model(config);
  facility::stamp(model, *store, core::now_millis());
  facility::StatusBook book(model, *store, config.facility.event_retention);
  book.observe(facility::fixed_observations(model), core::now_millis());
  facility::ExtraProbes extra_probes(model, config.facility, [&book](const facility::Observation& o) {
    book.observe({o}, core::now_millis());
  });

  auto credentials = ssh::make_credential_provider(config);
  cluster::Clusters clusters;
  for (const auto& c : config.clusters) clusters.add(std::make_unique<cluster::Cluster>(ioc.get_executor(), c, *credentials, config, http_client));
  for (std::size_t i = 0; i < clusters.all().size(); ++i) {
    auto& c = *clusters.all()[i];
    // S3 is probed by every cluster; the first one speaks for it.
    c.health().on_round([&book, &model, name = c.name(), with_s3 = i == 0](std::shared_ptr<const status::ClusterHealth> h) {
      book.observe(facility::observations_from(model, name, *h, with_s3), core::now_millis());
    });
  }
  for (const auto& c : clusters.all()) c->start();
  extra_probes.start();
  auto book_timer = std::make_shared<asio::steady_timer>(ioc);
  asio::co_spawn(ioc, housekeep(book, *store, config.facility.job_spec_retention, book_timer), asio::detached);

  std::shared_ptr<s3::Client> s3;
  if (config.s3) {
    const auto& c = *config.s3;
    auto addressing = c.virtual_host ? s3::Addressing::virtual_host : s3::Addressing::path;
    s3 = std::make_shared<s3::Client>(http_client, s3::Endpoint{c.endpoint, addressing},
                                      s3::Endpoint{c.public_endpoint, addressing},
                                      s3::Credentials{c.access_key_id, c.secret_access_key, c.region}, c.bucket);
  }
  transfer::Transfers transfers(ioc.get_executor(), clusters, s3, config.s3, *store);
  transfers.start();

  observe::Metrics metrics;
  add_collectors(metrics, clusters);
  api::firecrest::Api firecrest(config, authenticator, clusters, metrics, transfers);
  tasks::Manager task_manager(ioc.get_executor(), *store, config.tasks);
  task_manager.start();
  api::iri::Api iri(config, authenticator, model, book, &clusters, store.get());
  iri.set_tasks(&task_manager);
  iri.set_transfers(&transfers);
  limits::RateLimits rate_limits(config.rate_limits);
  firecrest.set_rate_limits(&rate_limits);
  iri.set_rate_limits(&rate_limits);
  add_limit_collectors(metrics, rate_limits, clusters);
  const std::string openapi_json = boost::json::serialize(openapi_document(iri, firecrest, config.server.api_root, ""));

  // The client behind trusted proxies (the per-address limit, who may read /metrics).
  const http::AddressSet proxies(config.facility.trusted_proxies);
  const http::AddressSet metrics_readers(config.metrics.allow);
  const auto client_of = [&proxies](const http::Request& req, const http::RequestContext& ctx) {
    return http::client_address(req, http::peer_address(ctx.remote), proxies);
  };
  // /metrics for the configured readers only; to anyone else it does not exist.
  const auto metrics_reply = [&](const http::Request& req, http::RequestContext& ctx) -> std::optional<http::Response> {
    if (req.target() != "/metrics" || req.method() != http::Verb::get || !metrics_readers.contains(client_of(req, ctx)))
      return std::nullopt;
    ctx.api = "metrics";
    ctx.route = "/metrics";
    http::Response res{http::Status::ok, req.version()};
    res.set(http::bhttp::field::content_type, "text/plain; version=0.0.4");
    res.body() = metrics.render();
    return res;
  };
  const bool metrics_here = config.metrics.port == 0;

  http::ServerHooks hooks;
  const std::string root = config.server.api_root;
  const auto is_iri = [&root](std::string_view target) {
    std::string_view path, query;
    return split_target(target, root, path, query) && api::iri::Api::serves(path);
  };
  hooks.admit = [&](const http::Request& req, http::RequestContext& ctx) -> std::optional<http::Response> {
    auto refusal = rate_limits.refuse_address(client_of(req, ctx));
    if (!refusal) return std::nullopt;
    const bool iri_call = is_iri(ctx.target);
    ctx.api = iri_call ? "iri" : "firecrest";
    return iri_call ? iri.reject(*refusal, ctx) : firecrest.reject(*refusal, ctx);
  };
  hooks.handle = [&](http::Request& req, http::RequestContext& ctx) -> asio::awaitable<http::Response> {
    std::string_view path, query;
    if (metrics_here)
      if (auto reply = metrics_reply(req, ctx)) co_return std::move(*reply);
    if (!split_target(req.target(), root, path, query)) {
      co_return firecrest.reject(http::Status::not_found, "no such endpoint: " + std::string(req.target().substr(0, 200)), ctx);
    }
    if (api::iri::Api::serves(path)) co_return co_await iri.handle(req, ctx, path, query);
    if (path == "/openapi.json" && req.method() == http::Verb::get) {
      ctx.api = "openapi";
      ctx.route = "/openapi.json";
      http::Response res{http::Status::ok, req.version()};
      res.set(http::bhttp::field::content_type, "application/json");
      res.body() = openapi_json;
      co_return res;
    }
    co_return co_await firecrest.handle(req, ctx, path, query);
  };
  hooks.streams_body = [&](const http::Request& req) {
    std::string_view path, query;
    if (!split_target(req.target(), root, path, query)) return false;
    return api::iri::Api::serves(path) ? iri.streams_body(req.method(), path) : firecrest.streams_body(req.method(), path);
  };
  hooks.reject = [&](http::Status status, std::string message, http::RequestContext& ctx) {
    return is_iri(ctx.target) ? iri.reject(status, message, ctx) : firecrest.reject(status, message, ctx);
  };
  hooks.done = [&](const http::Request* req, const http::Response& res, const http::RequestContext& ctx) {
    auto latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - ctx.start);
    metrics.observe_request(ctx.api.empty() ? "none" : ctx.api, ctx.route.empty() ? "none" : ctx.route,
                            req ? std::string(req->method_string()) : "-", res.result_int(), latency);
    if (ctx.api != "metrics") observe::write_audit(observe::audit_line(req, res, ctx, std::chrono::system_clock::now()));
  };

  http::Server server(ioc, config.server, std::move(hooks));
  metrics.add_collector(
      "# HELP portico_http_open_connections Client connections open on the API listener.\n"
      "# TYPE portico_http_open_connections gauge",
      [&server](std::string& out) { out += "portico_http_open_connections " + std::to_string(server.open_connections()) + "\n"; });

  // /metrics on a listener of its own (metrics.port), where nothing else is served.
  std::optional<http::Server> metrics_server;
  if (!metrics_here) {
    auto listener = config.server;
    listener.host = config.metrics.host;
    listener.port = config.metrics.port;
    http::ServerHooks m;
    m.handle = [&](http::Request& req, http::RequestContext& ctx) -> asio::awaitable<http::Response> {
      if (auto reply = metrics_reply(req, ctx)) co_return std::move(*reply);
      http::Response res{http::Status::not_found, req.version()};
      res.set(http::bhttp::field::content_type, "text/plain");
      res.body() = "not found\n";
      co_return res;
    };
    m.reject = [](http::Status status, std::string message, http::RequestContext&) {
      http::Response res{status, 11};
      res.set(http::bhttp::field::content_type, "text/plain");
      res.body() = message + "\n";
      return res;
    };
    metrics_server.emplace(ioc, listener, std::move(m));
  }
  try {
    server.start();
    if (metrics_server) metrics_server->start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  if (metrics_server) spdlog::info("serving /metrics on {}:{} only", config.metrics.host, metrics_server->port());
  spdlog::info("portico {} serving the FirecREST API {} and the IRI Facility API (v1, v2) on {}:{} with {} thread(s)",
               kVersion, kFirecrestApiVersion, config.server.host, server.port(), threads);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: finishing in-flight requests, then stopping", signal);
    if (metrics_server) metrics_server->shutdown([] {});
    server.shutdown([&] {
      for (const auto& c : clusters.all()) c->stop();
      extra_probes.stop();
      book_timer->cancel();
      transfers.stop();
      task_manager.stop();
      keys->stop();
      ioc.stop();
    });
  });

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : workers) t.join();
  spdlog::info("stopped");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace portico::app

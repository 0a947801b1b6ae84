#include "app/incident_command.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "api/firecrest/api.hpp"
#include "api/iri/api.hpp"
#include "api/iri/models.hpp"
#include "app/openapi_document.hpp"
#include "auth/authenticator.hpp"
#include "auth/jwks_cache.hpp"
#include "cluster/cluster.hpp"
#include "core/error.hpp"
#include "facility/model.hpp"
#include "facility/status_book.hpp"
#include "observe/metrics.hpp"
#include "store/store.hpp"
#include "transfer/transfers.hpp"

namespace portico::app {

namespace json = boost::json;

namespace {

const char* kUsage =
    "usage: portico --config FILE incident list\n"
    "       portico --config FILE incident declare --name NAME --start TIME --end TIME --resource R [--resource R ...]\n"
    "                                              [--status down|degraded|unknown] [--description TEXT]\n"
    "       portico --config FILE incident cancel ID\n"
    "  TIME is RFC 3339 (2026-12-24T08:00:00Z); R is a resource's name or id\n";

std::string line(const facility::Incident& i, const facility::Model& model) {
  std::string resources;
  for (const auto& id : i.resource_ids) {
    const auto* r = model.resource(id);
    resources += (resources.empty() ? "" : ", ") + (r ? r->name : id);
  }
  return i.id + "  " + facility::to_string(i.type) + "  " + facility::to_string(i.resolution) + "  " +
         core::format_rfc3339(i.start) + " .. " + (i.end ? core::format_rfc3339(*i.end) : std::string("(open)")) +
         "  " + facility::to_string(i.status) + "  " + i.name + "  [" + resources + "]";
}

}  // namespace

int run_incident_command(const config::Config& config, const std::vector<std::string>& args, std::ostream& out,
                         std::ostream& err) {
  if (args.empty()) {
    err << kUsage;
    return 2;
  }
  try {
    auto store = store::open_sqlite(config.store.path);
    auto model = facility::build_model(config);
    facility::StatusBook book(model, *store, config.facility.event_retention);
    const auto& verb = args[0];
    if (verb == "list" && args.size() == 1) {
      for (const auto& i : book.snapshot()->incidents) out << line(i, model) << "\n";
      return 0;
    }
    if (verb == "cancel" && args.size() == 2) {
      out << line(book.cancel(args[1], core::now_millis()), model) << "\n";
      return 0;
    }
    if (verb == "declare") {
      facility::PlannedIncident p;
      std::vector<core::FieldError> errors;
      for (std::size_t i = 1; i < args.size(); ++i) {
        const auto& flag = args[i];
        if (i + 1 >= args.size()) {
          err << "portico incident: " << flag << " needs a value\n" << kUsage;
          return 2;
        }
        const auto& value = args[++i];
        auto time = [&](const char* name) {
          auto t = core::parse_rfc3339(value);
          if (!t) errors.push_back({"argument", name, "expected an RFC 3339 time with a zone, got \"" + value + "\""});
          return t.value_or(0);
        };
        if (flag == "--name") p.name = value;
        else if (flag == "--description") p.description = value;
        else if (flag == "--start") p.start = time("start");
        else if (flag == "--end") p.end = time("end");
        else if (flag == "--resource") p.resource_ids.push_back(value);
        else if (flag == "--status") {
          auto s = facility::parse_status(value);
          if (!s) errors.push_back({"argument", "status", "expected down, degraded or unknown"});
          else p.status = *s;
        } else {
          err << "portico incident: unknown option " << flag << "\n" << kUsage;
          return 2;
        }
      }
      if (!errors.empty()) throw core::Failure(core::ErrorKind::validation, "bad arguments", {}, errors);
      out << line(book.declare(std::move(p), core::now_millis(), false), model) << "\n";
      return 0;
    }
    err << kUsage;
    return 2;
  } catch (const core::Failure& f) {
    if (f.fields().empty()) err << "portico incident: " << f.what() << "\n";
    for (const auto& e : f.fields()) err << "portico incident: " << e.name << ": " << e.message << "\n";
    return 1;
  }
}

int print_openapi(const config::Config& config, std::ostream& out) {
  // The APIs are built as the gateway builds them, but nothing is started or contacted.
  boost::asio::io_context ioc;
  auto http_client = std::make_shared<const net::HttpClient>();
  auto keys = auth::JwksCache::create(ioc.get_executor(), auth::JwksCache::Options::from(config.auth), http_client);
  auth::Authenticator authenticator(keys, config.auth);
  auto store = store::open_sqlite(":memory:");
  auto model = facility::build_model(config);
  facility::StatusBook book(model, *store, config.facility.event_retention);
  cluster::Clusters clusters;
  observe::Metrics metrics;
  transfer::Transfers transfers(ioc.get_executor(), clusters, nullptr, config.s3, *store);
  api::firecrest::Api firecrest(config, authenticator, clusters, metrics, transfers);
  api::iri::Api iri(config, authenticator, model, book, &clusters, store.get());
  out << json::serialize(openapi_document(iri, firecrest, config.server.api_root, "")) << "\n";
  return 0;
}

}  // namespace portico::app

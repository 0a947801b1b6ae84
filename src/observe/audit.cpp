#include "observe/audit.hpp"

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace portico::observe {
namespace {
// Set once by setup_logging() before the server starts its threads.
std::shared_ptr<spdlog::logger> audit_logger;
}  // namespace

std::string audit_line(const http::Request* request, const http::Response& response, const http::RequestContext& ctx,
                       std::chrono::system_clock::time_point now) {
  namespace json = boost::json;
  json::object line;
  auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  line["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", ms);
  line["type"] = "audit";
  line["request_id"] = ctx.request_id;
  if (!ctx.trace_id.empty()) line["trace_id"] = ctx.trace_id;
  line["remote"] = ctx.remote;
  line["user"] = ctx.user.empty() ? json::value(nullptr) : json::value(ctx.user);
  line["client_id"] = ctx.client_id.empty() ? json::value(nullptr) : json::value(ctx.client_id);
  line["system"] = ctx.system.empty() ? json::value(nullptr) : json::value(ctx.system);
  line["api"] = ctx.api;
  if (request) {
    line["method"] = std::string(request->method_string());
    // The path without the query string: queries can carry file names, but not credentials;
    // the route template is what aggregates.
    auto target = std::string_view(request->target());
    line["path"] = std::string(target.substr(0, target.find('?')));
  }
  line["route"] = ctx.route;
  line["status"] = response.result_int();
  auto latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - ctx.start);
  line["latency_ms"] = static_cast<double>(latency.count()) / 1000.0;
  json::array calls;
  for (const auto& c : ctx.backend_calls)
    calls.push_back(json::object{{"what", c.what}, {"exit", c.exit_status}, {"ms", c.duration.count() / 1000.0}});
  line["backend"] = std::move(calls);
  if (ctx.streamed_bytes > 0) line["bytes"] = ctx.streamed_bytes;  // a download's or upload's body
  return json::serialize(line);
}

void setup_logging(const std::string& level, const std::string& destination) {
  spdlog::sink_ptr sink;
  if (destination == "stderr") sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else if (destination == "stdout") sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  else sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination);
  auto main = std::make_shared<spdlog::logger>("portico", sink);
  main->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  main->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(main);
  auto audit = std::make_shared<spdlog::logger>("audit", sink);
  audit->set_pattern("%v");
  audit->set_level(level == "off" ? spdlog::level::off : spdlog::level::info);
  audit_logger = audit;
}

void write_audit(const std::string& line) {
  if (audit_logger) audit_logger->info(line);
}

}  // namespace portico::observe

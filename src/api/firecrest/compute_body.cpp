#include "api/firecrest/compute_body.hpp"

#include <boost/json.hpp>

#include "core/error.hpp"

namespace portico::api::firecrest {

namespace json = boost::json;
using core::validation_error;

namespace {

// The value of a field under either spelling; null and absent are the same.
const json::value* field(const json::object& o, std::string_view camel, std::string_view snake) {
  if (auto* v = o.if_contains(camel); v && !v->is_null()) return v;
  if (auto* v = o.if_contains(snake); v && !v->is_null()) return v;
  return nullptr;
}

std::optional<std::string> string_field(const json::object& o, std::string_view camel, std::string_view snake) {
  auto* v = field(o, camel, snake);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw validation_error("body", std::string("job.") + std::string(camel), "must be a string");
  std::string s(v->get_string());
  if (s.find('\0') != std::string::npos)
    throw validation_error("body", std::string("job.") + std::string(camel), "must not contain NUL bytes");
  return s;
}

}  // namespace

scheduler::JobSubmission parse_job_submission(std::string_view body, const ConfinePath& confine,
                                              std::size_t max_script_bytes) {
  json::value doc;
  boost::system::error_code ec;
  doc = json::parse(body, ec);
  if (ec) throw validation_error("body", "body", "is not valid JSON: " + ec.message());
  if (!doc.is_object()) throw validation_error("body", "body", "must be a JSON object");
  auto* job_value = doc.as_object().if_contains("job");
  if (!job_value || !job_value->is_object()) throw validation_error("body", "job", "is required and must be an object");
  const auto& job = job_value->as_object();

  scheduler::JobSubmission s;
  s.name = string_field(job, "name", "name");
  s.account = string_field(job, "account", "account");
  s.partition = string_field(job, "partition", "partition");
  s.reservation = string_field(job, "reservation", "reservation");
  s.constraints = string_field(job, "constraints", "constraints");
  s.standard_input = string_field(job, "standardInput", "standard_input");
  s.standard_output = string_field(job, "standardOutput", "standard_output");
  s.standard_error = string_field(job, "standardError", "standard_error");
  s.script = string_field(job, "script", "script");
  s.script_path = string_field(job, "scriptPath", "script_path");

  auto wd = string_field(job, "workingDirectory", "working_directory");
  if (!wd || wd->empty()) throw validation_error("body", "job.workingDirectory", "is required");
  s.working_directory = confine(*wd, "job.workingDirectory");
  if (s.script_path) s.script_path = confine(*s.script_path, "job.scriptPath");

  if (s.script.has_value() == s.script_path.has_value())
    throw validation_error("body", "job.script", "give exactly one of script and scriptPath");
  if (s.script && s.script->size() > max_script_bytes)
    throw core::Failure(core::ErrorKind::too_large,
                        "job.script is " + std::to_string(s.script->size()) + " bytes; the limit is " +
                            std::to_string(max_script_bytes));

  // FirecREST clients send env as an object of strings; a list or null used to crash servers.
  if (auto* env = job.if_contains("env")) {
    if (!env->is_object()) throw validation_error("body", "job.env", "must be an object of NAME: value strings");
    for (const auto& [name, value] : env->as_object()) {
      if (!scheduler::valid_env_name(name))
        throw validation_error("body", "job.env", "\"" + std::string(name).substr(0, 64) + "\" is not a variable name");
      if (!value.is_string()) throw validation_error("body", "job.env." + std::string(name), "must be a string");
      std::string v(value.get_string());
      if (v.find('\0') != std::string::npos)
        throw validation_error("body", "job.env." + std::string(name), "must not contain NUL bytes");
      s.env.emplace(std::string(name), std::move(v));
    }
  }
  return s;
}

}  // namespace portico::api::firecrest

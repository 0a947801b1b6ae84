#include "api/iri/errors.hpp"
#include "http/failure_headers.hpp"

#include <boost/json.hpp>

namespace portico::api::iri {

namespace json = boost::json;
using core::ErrorKind;

http::Status status_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::validation:
    case ErrorKind::bad_request: return http::Status::bad_request;
    case ErrorKind::unauthorized: return http::Status::unauthorized;
    case ErrorKind::forbidden: return http::Status::forbidden;
    case ErrorKind::not_found: return http::Status::not_found;
    case ErrorKind::method_not_allowed: return http::Status::method_not_allowed;
    case ErrorKind::conflict: return http::Status::conflict;
    case ErrorKind::too_large: return http::Status::payload_too_large;
    case ErrorKind::timeout: return http::Status::gateway_timeout;
    case ErrorKind::backend_unreachable:
    case ErrorKind::unavailable: return http::Status::service_unavailable;
    case ErrorKind::rate_limited: return http::Status::too_many_requests;
    case ErrorKind::not_implemented: return http::Status::not_implemented;
    case ErrorKind::internal: return http::Status::internal_server_error;
  }
  return http::Status::internal_server_error;
}

namespace {

// The problem type's last path segment and title per status.
std::pair<const char*, const char*> slug_and_title(http::Status status) {
  switch (status) {
    case http::Status::bad_request: return {"invalid-parameter", "Invalid parameter"};
    case http::Status::unauthorized: return {"unauthorized", "Unauthorized"};
    case http::Status::forbidden: return {"forbidden", "Forbidden"};
    case http::Status::not_found: return {"not-found", "Not found"};
    case http::Status::method_not_allowed: return {"method-not-allowed", "Method not allowed"};
    case http::Status::conflict: return {"conflict", "Conflict"};
    case http::Status::payload_too_large: return {"payload-too-large", "Payload too large"};
    case http::Status::too_many_requests: return {"too-many-requests", "Too many requests"};
    case http::Status::internal_server_error: return {"internal-error", "Internal error"};
    default: return {"generic-error", "Error"};
  }
}

}  // namespace

http::Response problem_response(const core::Failure& failure, const std::string& type_base,
                                const std::string& instance, unsigned http_version) {
  auto status = status_for(failure.kind());
  auto [slug, title] = slug_and_title(status);
  json::object body;
  body["type"] = type_base + "/" + slug;
  body["title"] = title;
  body["status"] = static_cast<int>(status);
  body["detail"] = failure.what();
  body["instance"] = instance;
  if (!failure.fields().empty()) {
    json::array params;
    for (const auto& f : failure.fields()) params.push_back(json::object{{"name", f.name}, {"reason", f.message}});
    body["invalid_params"] = std::move(params);
  }
  http::Response res{status, http_version};
  res.set(http::bhttp::field::content_type, "application/problem+json");
  http::set_failure_headers(res, failure);
  res.body() = json::serialize(body);
  return res;
}

}  // namespace portico::api::iri

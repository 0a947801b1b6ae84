#include "api/firecrest/errors.hpp"
#include "http/failure_headers.hpp"

#include <boost/json.hpp>

namespace portico::api::firecrest {

namespace json = boost::json;
using core::ErrorKind;

http::Status status_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::validation:
    case ErrorKind::bad_request:
    case ErrorKind::conflict: return http::Status::bad_request;  // FirecREST answers "File exists" with 400
    case ErrorKind::unauthorized: return http::Status::unauthorized;
    case ErrorKind::forbidden: return http::Status::forbidden;
    case ErrorKind::not_found: return http::Status::not_found;
    case ErrorKind::method_not_allowed: return http::Status::method_not_allowed;
    case ErrorKind::too_large: return http::Status::payload_too_large;
    case ErrorKind::timeout: return http::Status::request_timeout;
    case ErrorKind::backend_unreachable: return http::Status::failed_dependency;
    case ErrorKind::unavailable: return http::Status::service_unavailable;
    case ErrorKind::rate_limited: return http::Status::too_many_requests;
    case ErrorKind::not_implemented: return http::Status::not_implemented;
    case ErrorKind::internal: return http::Status::internal_server_error;
  }
  return http::Status::internal_server_error;
}

http::Response error_response(const core::Failure& failure, const std::string& user, unsigned http_version) {
  json::object body;
  const bool validation = failure.kind() == ErrorKind::validation;
  body["errorType"] = validation ? "validation" : "error";
  body["message"] = failure.what();
  body["causedBy"] = nullptr;
  if (validation) {
    json::array fields;
    for (const auto& f : failure.fields())
      fields.push_back(json::object{{"location", f.location}, {"name", f.name}, {"message", f.message}});
    body["data"] = json::object{{"fields", std::move(fields)}};
  } else {
    body["data"] = nullptr;
  }
  body["user"] = user.empty() ? json::value(nullptr) : json::value(user);

  http::Response res{status_for(failure.kind()), http_version};
  res.set(http::bhttp::field::content_type, "application/json");
  http::set_failure_headers(res, failure);
  res.body() = json::serialize(body);
  return res;
}

}  // namespace portico::api::firecrest

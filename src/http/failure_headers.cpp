#include "http/failure_headers.hpp"

namespace portico::http {

void set_failure_headers(Response& response, const core::Failure& failure) {
  const auto kind = failure.kind();
  if (kind == core::ErrorKind::unauthorized)
    response.set(bhttp::field::www_authenticate, "Bearer realm=\"portico\", error=\"invalid_token\"");
  if (kind == core::ErrorKind::rate_limited || kind == core::ErrorKind::unavailable) {
    const auto after = failure.retry_after().count();
    response.set(bhttp::field::retry_after, std::to_string(after > 0 ? after : 5));
  }
}

}  // namespace portico::http

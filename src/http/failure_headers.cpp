#include "http/failure_headers.hpp"

namespace portico::http {

void set_failure_headers(Response& response, core::ErrorKind kind) {
  if (kind == core::ErrorKind::unauthorized)
    response.set(bhttp::field::www_authenticate, "Bearer realm=\"portico\", error=\"invalid_token\"");
  if (kind == core::ErrorKind::rate_limited || kind == core::ErrorKind::unavailable)
    response.set(bhttp::field::retry_after, "5");
}

}  // namespace portico::http

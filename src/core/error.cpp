#include "core/error.hpp"

namespace portico::core {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::validation: return "validation";
    case ErrorKind::bad_request: return "bad_request";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::method_not_allowed: return "method_not_allowed";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::too_large: return "too_large";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::backend_unreachable: return "backend_unreachable";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::not_implemented: return "not_implemented";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

}  // namespace portico::core

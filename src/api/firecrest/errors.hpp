#pragma once
// The FirecREST error format and the one mapping of core::Failure to HTTP for this API:
// {"errorType": "error"|"validation", "message", "causedBy", "data", "user"}.

#include <string>

#include "core/error.hpp"
#include "http/types.hpp"

namespace portico::api::firecrest {

http::Status status_for(core::ErrorKind kind) noexcept;

// user: the authenticated user, or empty before authentication.
http::Response error_response(const core::Failure& failure, const std::string& user, unsigned http_version = 11);

}  // namespace portico::api::firecrest

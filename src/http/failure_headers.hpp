#pragma once
// The headers an error reply carries whatever the API's body format: how to authenticate
// (401) and when to come back (429, 503).

#include "core/error.hpp"
#include "http/types.hpp"

namespace portico::http {

void set_failure_headers(Response& response, const core::Failure& failure);

}  // namespace portico::http

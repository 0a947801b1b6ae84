#pragma once
// The IRI API's errors: RFC 9457 problem details (application/problem+json) and the one mapping
// of core::Failure to HTTP for this API. Validation failures carry invalid_params.

#include <string>

#include "core/error.hpp"
#include "http/types.hpp"

namespace portico::api::iri {

http::Status status_for(core::ErrorKind kind) noexcept;

// type_base: the URL the problem types live under ("<api base>/problems"); instance: the
// absolute URL of the request.
http::Response problem_response(const core::Failure& failure, const std::string& type_base,
                                const std::string& instance, unsigned http_version = 11);

}  // namespace portico::api::iri

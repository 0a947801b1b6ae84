#pragma once
// The body of POST /compute/{system}/jobs, read as FirecREST clients send it: camelCase or
// snake_case for every field. Pure; every problem is a validation Failure naming its field.

#include <functional>
#include <string>
#include <string_view>

#include "scheduler/submission.hpp"

namespace portico::api::firecrest {

// Confines a path of the request to the cluster's file systems, or throws a validation Failure
// for that field. (filesystem::confine in production; the field name goes into the error.)
using ConfinePath = std::function<std::string(std::string_view path, std::string_view field)>;

// max_script_bytes: the configured cap on an inline script.
scheduler::JobSubmission parse_job_submission(std::string_view body, const ConfinePath& confine,
                                              std::size_t max_script_bytes);

}  // namespace portico::api::firecrest

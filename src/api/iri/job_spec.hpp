#pragma once
// The JobSpec of launchJob and updateJob as the IRI API receives it: the request's JSON read
// into scheduler::psij::JobSpec, unknown fields refused as the schema does (v2 objects may
// carry "attributes" of their own), every problem named at once. Pure: the route handlers
// (compute_routes.cpp) and the fuzz targets read a JobSpec the same way.

#include <boost/json/value.hpp>

#include "api/iri/models.hpp"
#include "scheduler/psij.hpp"

namespace portico::api::iri {

// Throws core::Failure(validation) with one field per problem.
scheduler::psij::JobSpec read_job_spec(const boost::json::value& body, Version version);

}  // namespace portico::api::iri

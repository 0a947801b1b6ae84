#pragma once
// The OpenAPI document of everything Portico serves (/openapi.json, `portico --openapi`): the
// IRI API's versions 1 and 2 and the FirecREST API, each from its route table.

#include <boost/json/object.hpp>

#include <string>

#include "api/firecrest/api.hpp"
#include "api/iri/api.hpp"

namespace portico::app {

// server: the absolute URL of the API root, or "" for relative paths.
boost::json::object openapi_document(const api::iri::Api& iri, const api::firecrest::Api& firecrest,
                                     const std::string& api_root, const std::string& server);

}  // namespace portico::app

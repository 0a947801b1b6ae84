// A request target after the head is read: the router's path templates (http/router.hpp), the
// query parameters (http/query.hpp) and the IRI API's validated query (api/iri/params.hpp).
// Input: the target, e.g. "/filesystem/hpc/ops/ls?path=%2Fhome".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/iri/params.hpp"
#include "core/numbers.hpp"
#include "core/time.hpp"
#include "facility/uuid.hpp"
#include "fuzz_support.hpp"
#include "http/query.hpp"
#include "http/router.hpp"

namespace http = portico::http;
namespace iri = portico::api::iri;
using http::Verb;

namespace {

// Templates of both APIs' shapes: literals, {name} segments, and a {name...} rest.
const http::Router<int>& router() {
  static const http::Router<int> r = [] {
    http::Router<int> r;
    int n = 0;
    for (const char* p : {"/status/systems", "/status/{system_name}/nodes", "/compute/{system_name}/jobs",
                          "/compute/{system_name}/jobs/{job_id}", "/compute/{system_name}/jobs/{job_id}/metadata",
                          "/filesystem/{system_name}/ops/ls", "/filesystem/{system_name}/ops/upload",
                          "/compute/status/{resource_id}/{job_id}", "/account/projects/{project_id}",
                          "/files/{system_name}/{path...}", "/"})
      r.add(Verb::get, p, n++);
    for (const char* p : {"/compute/{system_name}/jobs", "/filesystem/{system_name}/ops/mkdir", "/compute/job/{resource_id}"})
      r.add(Verb::post, p, n++);
    r.add(Verb::put, "/compute/job/{resource_id}/{job_id}", n++);
    r.add(Verb::delete_, "/compute/{system_name}/jobs/{job_id}", n++);
    return r;
  }();
  return r;
}

std::vector<std::string> segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// The route's template with its parameters put back gives the path's segments.
void check_match(const http::Router<int>::Match& m, std::string_view path) {
  const auto want = segments(path);
  std::vector<std::string> got;
  std::size_t param = 0;
  for (const auto& s : segments(m.route->pattern)) {
    if (s.front() != '{') {
      got.push_back(s);
      continue;
    }
    FUZZ_CHECK(param < m.params.size());
    const auto& [name, value] = m.params[param++];
    if (s.ends_with("...}")) {
      FUZZ_CHECK(name == s.substr(1, s.size() - 5));
      for (auto& rest : segments(value)) got.push_back(std::move(rest));
      FUZZ_CHECK(!value.empty() && value.front() != '/' && value.back() != '/');
    } else {
      FUZZ_CHECK(name == s.substr(1, s.size() - 2));
      FUZZ_CHECK(!value.empty() && value.find('/') == std::string::npos);
      got.push_back(value);
    }
  }
  FUZZ_CHECK(param == m.params.size());
  FUZZ_CHECK(got == want);
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

const std::vector<iri::Param>& iri_params() {
  static const std::vector<iri::Param> params = [] {
    std::vector<iri::Param> p{iri::offset_param(), iri::limit_param(), iri::modified_since_param(),
                              iri::boolean_param("short", "")};
    p.emplace_back("name", iri::ParamKind::text, "");
    p.emplace_back("resource_id", iri::ParamKind::uuid, "");
    iri::Param status{"status", iri::ParamKind::choice, ""};
    status.choices = {"up", "down", "degraded", "unknown"};
    p.push_back(status);
    iri::Param type{"resource_type", iri::ParamKind::urn, ""};
    type.urn_prefix = "urn:doe-iri:resource-type:";
    p.push_back(type);
    iri::Param capability{"capability", iri::ParamKind::text, ""};
    capability.list = true;
    p.push_back(capability);
    return p;
  }();
  return params;
}

void check_iri_query(std::string_view query) {
  iri::Query q;
  if (!portico::fuzz::refused_or_ran(portico::core::ErrorKind::validation,
                                     [&] { q = iri::parse_query(query, iri_params()); }))
    return;
  for (const auto& p : iri_params()) {
    const auto values = q.all(p.name);
    FUZZ_CHECK(p.list || values.size() <= 1);
    for (const auto& v : values) {
      switch (p.kind) {
        case iri::ParamKind::text: FUZZ_CHECK(!v.empty()); break;
        case iri::ParamKind::uuid: FUZZ_CHECK(portico::facility::is_uuid(v)); break;
        case iri::ParamKind::integer: {
          auto n = portico::core::parse_decimal<std::uint64_t>(v);
          FUZZ_CHECK(n && static_cast<std::int64_t>(*n) >= p.min && static_cast<std::int64_t>(*n) <= p.max);
          FUZZ_CHECK(q.integer(p.name, -1) == static_cast<std::int64_t>(*n));
          break;
        }
        case iri::ParamKind::date_time: FUZZ_CHECK(q.time(p.name).has_value()); break;
        case iri::ParamKind::choice:
          FUZZ_CHECK(std::find(p.choices.begin(), p.choices.end(), v) != p.choices.end());
          break;
        case iri::ParamKind::urn: FUZZ_CHECK(v.starts_with(p.urn_prefix) && v.size() > p.urn_prefix.size()); break;
        case iri::ParamKind::boolean: FUZZ_CHECK(v == "true" || v == "false"); break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  const auto query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  for (Verb verb : {Verb::get, Verb::post, Verb::put, Verb::delete_, Verb::patch}) {
    const auto m = router().find(verb, path);
    if (m.route) {
      FUZZ_CHECK(m.route->verb == verb);
      check_match(m, path);
    } else {
      FUZZ_CHECK(m.params.empty());
      for (auto other : m.allowed) {
        FUZZ_CHECK(other != verb);
        FUZZ_CHECK(router().find(other, path).route != nullptr);
      }
    }
  }

  for (const char* name : {"path", "showHidden", "offset", "", "a b"}) {
    const auto value = http::query_param(query, name);
    if (!value) continue;
    // The value sent fully escaped is read back as it is.
    const auto again = http::query_param(percent_encode(name) + "=" + percent_encode(*value), name);
    FUZZ_CHECK(again && *again == *value);
  }
  // Decoding never grows the text, and text without escapes is kept.
  const auto decoded = http::percent_decode(query, false);
  FUZZ_CHECK(decoded.size() <= query.size());
  if (query.find('%') == std::string_view::npos) FUZZ_CHECK(decoded == query);

  check_iri_query(query);
  return 0;
}

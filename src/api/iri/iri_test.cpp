#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "api/iri/errors.hpp"
#include "api/iri/models.hpp"
#include "api/iri/params.hpp"
#include "api/iri/response_cache.hpp"

namespace portico::api::iri {
namespace {

namespace json = boost::json;

std::vector<Param> list_params() {
  Param status{"status", ParamKind::choice, ""};
  status.choices = {"up", "down"};
  Param unit{"capability", ParamKind::choice, ""};
  unit.choices = {"bytes", "inodes"};
  unit.list = true;
  Param type{"resource_type", ParamKind::urn, ""};
  type.urn_prefix = "urn:doe-iri:";
  return {offset_param(), limit_param(), modified_since_param(), status, unit, type,
          {"name", ParamKind::text, ""}, {"resource_id", ParamKind::uuid, ""}};
}

std::vector<std::string> refused(std::string_view query) {
  try {
    parse_query(query, list_params());
  } catch (const core::Failure& f) {
    EXPECT_EQ(f.kind(), core::ErrorKind::validation);
    std::vector<std::string> names;
    for (const auto& e : f.fields()) names.push_back(e.name);
    return names;
  }
  return {};
}

TEST(Params, ValidQueriesAreRead) {
  auto q = parse_query("offset=5&limit=0&modified_since=2026-02-21T12%3A00%3A00Z&status=up&capability=bytes&capability=inodes"
                       "&name=hpc+scheduler&resource_type=urn:doe-iri:resource",
                       list_params());
  EXPECT_EQ(q.integer("offset", 0), 5);
  EXPECT_EQ(q.integer("limit", 100), 0);
  EXPECT_EQ(q.integer("absent", 7), 7);
  EXPECT_EQ(q.time("modified_since"), core::parse_rfc3339("2026-02-21T12:00:00Z"));
  EXPECT_EQ(*q.get("name"), "hpc scheduler");
  EXPECT_EQ(q.all("capability"), (std::vector<std::string>{"bytes", "inodes"}));
  EXPECT_EQ(q.get("status") ? *q.get("status") : "", "up");
  EXPECT_TRUE(refused("").empty());
}

TEST(Params, BadQueriesNameEveryParameter) {
  EXPECT_EQ(refused("colour=blue"), std::vector<std::string>{"colour"});
  EXPECT_EQ(refused("limit=1&limit=2"), std::vector<std::string>{"limit"});
  EXPECT_EQ(refused("limit=1001"), std::vector<std::string>{"limit"});
  EXPECT_EQ(refused("limit=-1"), std::vector<std::string>{"limit"});
  EXPECT_EQ(refused("limit=ten"), std::vector<std::string>{"limit"});
  EXPECT_EQ(refused("offset=1e3"), std::vector<std::string>{"offset"});
  EXPECT_EQ(refused("modified_since=2026-02-21"), std::vector<std::string>{"modified_since"});
  EXPECT_EQ(refused("status=sideways"), std::vector<std::string>{"status"});
  EXPECT_EQ(refused("name="), std::vector<std::string>{"name"});
  EXPECT_EQ(refused("resource_id=123"), std::vector<std::string>{"resource_id"});
  EXPECT_EQ(refused("resource_type=compute"), std::vector<std::string>{"resource_type"});
  EXPECT_EQ(refused("capability=furlongs"), std::vector<std::string>{"capability"});
  EXPECT_EQ(refused("colour=blue&limit=x&status=y"), (std::vector<std::string>{"colour", "limit", "status"}));
}

TEST(Problems, CarryTypeTitleStatusDetailInstanceAndInvalidParams) {
  auto res = problem_response(core::validation_error("query", "limit", "too big"), "https://x/api/v1/problems",
                              "https://x/api/v1/status/resources?limit=5000");
  EXPECT_EQ(res.result(), http::Status::bad_request);
  EXPECT_EQ(res[http::bhttp::field::content_type], "application/problem+json");
  auto body = json::parse(res.body()).as_object();
  EXPECT_EQ(body["type"], "https://x/api/v1/problems/invalid-parameter");
  EXPECT_EQ(body["status"], 400);
  EXPECT_EQ(body["instance"], "https://x/api/v1/status/resources?limit=5000");
  EXPECT_EQ(body["invalid_params"].as_array()[0].as_object()["name"], "limit");
  EXPECT_EQ(body["invalid_params"].as_array()[0].as_object()["reason"], "too big");

  auto unauthorized = problem_response(core::Failure(core::ErrorKind::unauthorized, "token expired"), "b", "i");
  EXPECT_EQ(unauthorized.result(), http::Status::unauthorized);
  EXPECT_TRUE(unauthorized[http::bhttp::field::www_authenticate].starts_with("Bearer"));
  EXPECT_EQ(status_for(core::ErrorKind::conflict), http::Status::conflict);
}

TEST(Models, VersionsDifferAtTheEdge) {
  EXPECT_EQ(resource_type_text(facility::ResourceType::compute, Version::v1), "compute");
  EXPECT_EQ(resource_type_text(facility::ResourceType::compute, Version::v2), "urn:doe-iri:resource:compute");
  EXPECT_EQ(resource_type_text(facility::ResourceType::service, Version::v2), "urn:doe-iri:service:generic");
  EXPECT_EQ(unit_text(facility::Unit::node_hours, Version::v2), "urn:doe-iri:allocation:compute:node-hours");
  EXPECT_EQ(unit_text(facility::Unit::node_hours, Version::v1), "node_hours");

  facility::Event e;
  e.id = "e";
  e.resource_id = "r";
  e.status = facility::Status::down;
  e.occurred_at = 1000;
  e.last_modified = 1000;
  Links links{"https://x/api/v1", Version::v1};
  auto j = to_json(e, links);
  EXPECT_EQ(j["self_uri"], "https://x/api/v1/status/events/e");
  EXPECT_EQ(j["resource_uri"], "https://x/api/v1/status/resources/r");
  EXPECT_TRUE(j["incident_uri"].is_null());
  EXPECT_EQ(j["occurred_at"], "1970-01-01T00:00:01Z");
}

}  // namespace
}  // namespace portico::api::iri

namespace portico::api::iri {
namespace {

TEST(ResponseCache, ServesOnlyTheGenerationItWasMadeAtAndStaysBounded) {
  ResponseCache cache;
  auto reply = std::make_shared<CachedReply>(CachedReply{7, "[1,2,3]", 1000, ""});
  cache.put("a", reply);
  EXPECT_EQ(cache.find("a", 7), reply);
  EXPECT_EQ(cache.find("a", 8), nullptr);  // the book changed since
  EXPECT_EQ(cache.find("b", 7), nullptr);
  auto huge = std::make_shared<CachedReply>(CachedReply{7, std::string(ResponseCache::kBytesPerShard, 'x'), 0, ""});
  cache.put("huge", huge);
  EXPECT_EQ(cache.find("huge", 7), nullptr);  // never kept
  // Many distinct keys never hold more than the bound.
  auto big = std::make_shared<CachedReply>(CachedReply{7, std::string(100'000, 'x'), 0, ""});
  auto key = [](int i) { return std::to_string(i) + "k"; };  // (g++ 12 warns falsely on "k" + to_string)
  for (int i = 0; i < 2000; ++i) cache.put(key(i), big);
  int kept = 0;
  for (int i = 0; i < 2000; ++i) kept += cache.find(key(i), 7) != nullptr;
  EXPECT_LE(static_cast<std::size_t>(kept) * 100'000, 16 * ResponseCache::kBytesPerShard);
  EXPECT_GT(kept, 0);
}

}  // namespace
}  // namespace portico::api::iri

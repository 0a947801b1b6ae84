#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "observe/audit.hpp"
#include "observe/metrics.hpp"

using namespace portico;

TEST(Metrics, CountsAndCumulativeBuckets) {
  observe::Metrics m;
  m.observe_request("firecrest", "/status/systems", "GET", 200, std::chrono::microseconds(700));
  m.observe_request("firecrest", "/status/systems", "GET", 200, std::chrono::microseconds(30'000));
  m.add_collector("# TYPE portico_x gauge", [](std::string& out) { out += "portico_x 3\n"; });
  auto text = m.render();
  EXPECT_NE(text.find(R"(portico_http_requests_total{api="firecrest",route="/status/systems",method="GET",status="200"} 2)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(R"(le="0.001"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(le="0.05"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(le="+Inf"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find("portico_x 3\n"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) { EXPECT_EQ(observe::label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(Audit, OneJsonLineWithWhoAndWhatButNoToken) {
  http::Request req{http::Verb::get, "/status/hpc/userinfo?x=1", 11};
  req.set("Authorization", "Bearer eyJsecret.token.here");
  http::Response res{http::Status::ok, 11};
  http::RequestContext ctx;
  ctx.request_id = "r1";
  ctx.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  ctx.user = "alice";
  ctx.client_id = "alice-client";
  ctx.system = "hpc";
  ctx.api = "firecrest";
  ctx.route = "/status/{system}/userinfo";
  ctx.backend_calls.push_back({"ssh:id", 0, std::chrono::microseconds(1500)});
  auto line = observe::audit_line(&req, res, ctx, std::chrono::system_clock::now());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find("eyJ"), std::string::npos);
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v["user"].as_string(), "alice");
  EXPECT_EQ(v["client_id"].as_string(), "alice-client");
  EXPECT_EQ(v["path"].as_string(), "/status/hpc/userinfo");
  EXPECT_EQ(v["status"].as_int64(), 200);
  EXPECT_EQ(v["backend"].as_array().at(0).as_object().at("what").as_string(), "ssh:id");
}

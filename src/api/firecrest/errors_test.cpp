#include "api/firecrest/errors.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace portico;
using core::ErrorKind;

TEST(FirecrestErrors, EveryKindHasItsStatus) {
  using api::firecrest::status_for;
  EXPECT_EQ(status_for(ErrorKind::validation), http::Status::bad_request);
  EXPECT_EQ(status_for(ErrorKind::conflict), http::Status::bad_request);
  EXPECT_EQ(status_for(ErrorKind::unauthorized), http::Status::unauthorized);
  EXPECT_EQ(status_for(ErrorKind::forbidden), http::Status::forbidden);
  EXPECT_EQ(status_for(ErrorKind::not_found), http::Status::not_found);
  EXPECT_EQ(status_for(ErrorKind::too_large), http::Status::payload_too_large);
  EXPECT_EQ(status_for(ErrorKind::timeout), http::Status::request_timeout);
  EXPECT_EQ(status_for(ErrorKind::backend_unreachable), http::Status::failed_dependency);
  EXPECT_EQ(status_for(ErrorKind::unavailable), http::Status::service_unavailable);
  EXPECT_EQ(status_for(ErrorKind::rate_limited), http::Status::too_many_requests);
}

TEST(FirecrestErrors, ValidationErrorsListTheirFields) {
  auto res = api::firecrest::error_response(core::validation_error("body", "env", "must be an object"), "alice");
  EXPECT_EQ(res.result(), http::Status::bad_request);
  auto body = boost::json::parse(res.body()).as_object();
  EXPECT_EQ(body["errorType"].as_string(), "validation");
  EXPECT_EQ(body["user"].as_string(), "alice");
  auto field = body["data"].as_object()["fields"].as_array().at(0).as_object();
  EXPECT_EQ(field["location"].as_string(), "body");
  EXPECT_EQ(field["name"].as_string(), "env");
  EXPECT_EQ(field["message"].as_string(), "must be an object");
}

TEST(FirecrestErrors, UnauthorizedCarriesABearerChallengeAndNoUser) {
  auto res = api::firecrest::error_response(core::Failure(ErrorKind::unauthorized, "token expired"), "");
  EXPECT_EQ(res[http::bhttp::field::www_authenticate].substr(0, 6), "Bearer");
  auto body = boost::json::parse(res.body()).as_object();
  EXPECT_TRUE(body["user"].is_null());
  EXPECT_TRUE(body["causedBy"].is_null());
  EXPECT_EQ(body["message"].as_string(), "token expired");
}

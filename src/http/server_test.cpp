#include "http/server.hpp"

#include <gtest/gtest.h>

using namespace portico::http;

TEST(RequestIds, KeepsPlainClientIdsAndRefusesOthers) {
  EXPECT_EQ(sane_request_id("abc-123_X.y:z"), "abc-123_X.y:z");
  EXPECT_EQ(sane_request_id("a b"), "");
  EXPECT_EQ(sane_request_id("x\r\nSet-Cookie: a"), "");
  EXPECT_EQ(sane_request_id(std::string(200, 'a')), "");
  EXPECT_EQ(new_request_id().size(), 32u);
  EXPECT_NE(new_request_id(), new_request_id());
}

TEST(TraceParent, ExtractsTheTraceId) {
  EXPECT_EQ(trace_id_from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace_id_from_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(trace_id_from_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(trace_id_from_traceparent("garbage"), "");
}

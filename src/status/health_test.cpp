#include "status/health.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

using namespace portico::status;
namespace asio = boost::asio;

namespace {

asio::awaitable<std::string> ok() { co_return ""; }
asio::awaitable<std::string> ok_but() { co_return "no SFTP subsystem"; }
asio::awaitable<std::string> fails() {
  throw std::runtime_error("connection refused");
  co_return "";
}
asio::awaitable<std::string> hangs() {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::hours(1));
  co_await t.async_wait(asio::use_awaitable);
  co_return "";
}

}  // namespace

TEST(HealthChecker, ReportsEachProbeAndKeepsAHungProbeToItsTimeout) {
  asio::io_context ioc;
  HealthChecker checker(ioc.get_executor(), "hpc", std::chrono::seconds(30), std::chrono::milliseconds(100),
                        {{ServiceType::ssh, "", ok}, {ServiceType::scheduler, "", fails}, {ServiceType::filesystem, "/scratch", hangs},
                         {ServiceType::s3, "", ok_but}});
  EXPECT_FALSE(checker.is_down(ServiceType::scheduler));  // no verdict before the first round
  EXPECT_FALSE(checker.snapshot()->last_run);
  auto done = asio::co_spawn(ioc, checker.run_once(), asio::use_future);
  ioc.run();
  done.get();

  auto s = checker.snapshot();
  ASSERT_TRUE(s->last_run);
  ASSERT_EQ(s->services.size(), 4u);
  EXPECT_TRUE(s->services[0].healthy);
  EXPECT_EQ(s->services[0].message, "OK");
  EXPECT_TRUE(s->services[3].healthy);
  EXPECT_EQ(s->services[3].message, "OK (no SFTP subsystem)");
  EXPECT_FALSE(s->services[1].healthy);
  EXPECT_EQ(s->services[1].message, "connection refused");
  EXPECT_FALSE(s->services[2].healthy);
  EXPECT_EQ(s->services[2].path, "/scratch");
  EXPECT_NE(s->services[2].message.find("no answer within 100 ms"), std::string::npos);
  EXPECT_TRUE(s->services[0].latency_seconds.has_value());
  EXPECT_FALSE(checker.is_down(ServiceType::ssh));
  EXPECT_TRUE(checker.is_down(ServiceType::scheduler));
  EXPECT_TRUE(checker.is_down(ServiceType::filesystem));
}

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "api/firecrest/api.hpp"
#include "api/firecrest/handler_util.hpp"
#include "api/firecrest/models.hpp"
#include "scheduler/userinfo.hpp"

// GET /status/...: liveness, systems, nodes, partitions, reservations, userinfo.
namespace portico::api::firecrest {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Response;
using http::Verb;

void add_status_routes(Api& api) {
  Api* self = &api;
  api.add(Verb::get, "/status/liveness", {[self](Call&) -> asio::awaitable<Response> {
        json::object runs;
        std::optional<std::chrono::system_clock::time_point> latest;
        for (const auto& c : self->clusters().all()) {
          auto s = c->health().snapshot();
          runs[c->name()] = s->last_run ? json::value(iso8601(*s->last_run)) : json::value(nullptr);
          if (s->last_run && (!latest || *s->last_run > *latest)) latest = s->last_run;
        }
        json::value last = latest ? json::value(std::chrono::duration_cast<std::chrono::seconds>(latest->time_since_epoch()).count())
                                  : json::value(nullptr);
        co_return json_response(http::Status::ok, json::object{{"healthcheckRuns", std::move(runs)}, {"lastUpdate", last}});
      },
      false});

  api.add(Verb::get, "/status/systems", {[self](Call&) -> asio::awaitable<Response> {
        std::string body = "{\"systems\":[";
        for (const auto& c : self->clusters().all()) {
          if (body.back() != '[') body += ',';
          body += self->system_entry(*c);
        }
        body += "]}";
        Response res{http::Status::ok, 11};
        res.set(http::bhttp::field::content_type, "application/json");
        res.body() = std::move(body);
        co_return res;
      }});

  api.add(Verb::get, "/status/{system_name}/nodes", {[](Call& c) -> asio::awaitable<Response> {
        require_up(*c.cluster, status::ServiceType::scheduler);
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        auto nodes = co_await c.cluster->scheduler().nodes(runner);
        json::array out;
        for (const auto& n : nodes) out.push_back(to_json(n));
        co_return json_response(http::Status::ok, json::object{{"nodes", std::move(out)}});
      }});

  api.add(Verb::get, "/status/{system_name}/partitions", {[](Call& c) -> asio::awaitable<Response> {
        require_up(*c.cluster, status::ServiceType::scheduler);
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        auto partitions = co_await c.cluster->scheduler().partitions(runner);
        json::array out;
        for (const auto& p : partitions) out.push_back(to_json(p));
        co_return json_response(http::Status::ok, json::object{{"partitions", std::move(out)}});
      }});

  api.add(Verb::get, "/status/{system_name}/reservations", {[](Call& c) -> asio::awaitable<Response> {
        require_up(*c.cluster, status::ServiceType::scheduler);
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        auto reservations = co_await c.cluster->scheduler().reservations(runner);
        json::array out;
        for (const auto& r : reservations) out.push_back(to_json(r));
        co_return json_response(http::Status::ok, json::object{{"reservations", std::move(out)}});
      }});

  api.add(Verb::get, "/status/{system_name}/userinfo", {[](Call& c) -> asio::awaitable<Response> {
        auto runner = c.cluster->runner(c.identity->username, &c.ctx.backend_calls);
        // `id` and the accounts query are independent: run them side by side on two channels,
        // each to its end (no sibling cancellation: a failure of one leaves the other alone).
        // The accounts come from the scheduler's database; when it is down, userinfo still
        // answers with what `id` said rather than failing the whole call.
        auto executor = co_await asio::this_coro::executor;
        auto accounts_of = [&]() -> asio::awaitable<std::vector<scheduler::Account>> {
          if (c.cluster->health().is_down(status::ServiceType::scheduler)) co_return std::vector<scheduler::Account>{};
          co_return co_await c.cluster->accounts(c.identity->username, runner);
        };
        auto [order, id_error, info, accounts_error, accounts] =
            co_await asio::experimental::make_parallel_group(
                asio::co_spawn(executor, c.cluster->user_info(c.identity->username, &c.ctx.backend_calls), asio::deferred),
                asio::co_spawn(executor, accounts_of(), asio::deferred))
                .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
        if (id_error) std::rethrow_exception(id_error);
        if (accounts_error) std::rethrow_exception(accounts_error);
        co_return json_response(http::Status::ok, to_json(info, accounts));
      }});
}

}  // namespace portico::api::firecrest

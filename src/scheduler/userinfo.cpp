#include "scheduler/userinfo.hpp"

#include "scheduler/command_output.hpp"
#include "scheduler/id_parse.hpp"

namespace portico::scheduler {

boost::asio::awaitable<UserInfo> userinfo(core::CommandRunner& runner) {
  core::Command command;
  // id's "uid=" words are translated in other locales.
  command.argv = {"env", "LC_ALL=C", "id"};
  auto result = co_await runner.run(std::move(command));
  co_return parse_id(successful_output(result, "id"));
}

}  // namespace portico::scheduler

#pragma once
// The calling user's Unix identity on a cluster. Not scheduler-specific: it is `id`, run as
// that user, so it lives beside the scheduler rather than in the Scheduler interface.

#include "core/command.hpp"
#include "scheduler/model.hpp"

#include <boost/asio/awaitable.hpp>

namespace portico::scheduler {

// Runs `env LC_ALL=C id` through runner and parses it (id_parse.hpp). Throws core::Failure as
// command_output.hpp's successful_output() does, or internal for output it cannot parse.
// REQUIRES: runner outlives the returned awaitable.
boost::asio::awaitable<UserInfo> userinfo(core::CommandRunner& runner);

}  // namespace portico::scheduler

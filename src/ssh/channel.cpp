#include "ssh/channel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "ssh/connection.hpp"

namespace portico::ssh {

namespace asio = boost::asio;

// Every operation runs on the connection's strand; the coroutine's copy of the handle keeps the
// channel open until it is done.

Channel::Handle::~Handle() {
  if (connection && state) connection->detach(std::move(state));
}

namespace {
template <class Handle>
const std::shared_ptr<Handle>& checked(const std::shared_ptr<Handle>& handle) {
  if (!handle) throw std::logic_error("ssh::Channel: used without a channel");
  return handle;
}
}  // namespace

asio::awaitable<std::size_t> Channel::async_read_some(Stream stream, asio::mutable_buffer buffer) {
  auto h = checked(handle_);
  co_return co_await asio::co_spawn(h->connection->strand(), h->connection->read_some(h->state, stream, buffer),
                                    asio::use_awaitable);
}

asio::awaitable<void> Channel::async_write(asio::const_buffer data) {
  auto h = checked(handle_);
  co_await asio::co_spawn(h->connection->strand(), h->connection->write(h->state, data), asio::use_awaitable);
}

asio::awaitable<void> Channel::send_eof() {
  auto h = checked(handle_);
  co_await asio::co_spawn(h->connection->strand(), h->connection->send_eof(h->state), asio::use_awaitable);
}

asio::awaitable<ExitInfo> Channel::wait_exit() {
  auto h = checked(handle_);
  co_return co_await asio::co_spawn(h->connection->strand(), h->connection->wait_exit(h->state), asio::use_awaitable);
}

void Channel::close() noexcept {
  if (handle_) handle_->connection->abort(handle_->state);
}

asio::awaitable<void> drain(Channel channel, Stream stream, std::size_t cap, std::string& out, bool& truncated) {
  std::vector<char> buffer(32 * 1024);
  for (;;) {
    const auto n = co_await channel.async_read_some(stream, asio::buffer(buffer));
    if (n == 0) co_return;
    // Past the cap, go on reading and dropping: the command must not block on a full pipe.
    const auto keep = std::min(n, out.size() < cap ? cap - out.size() : 0);
    out.append(buffer.data(), keep);
    if (keep < n) truncated = true;
  }
}

}  // namespace portico::ssh

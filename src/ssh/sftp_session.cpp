#include "ssh/sftp_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace portico::ssh {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;
using core::FileAttributes;
using core::FileError;
using core::FileStatus;
using Pending = SftpSession::Pending;

namespace {

// Room for the largest packet whatever is left of the one before it.
constexpr std::size_t kInBuffer = 2 * (sftp::kMaxPacket + 4);
// Read at least this much at once; the buffer is compacted when less is free.
constexpr std::size_t kMinRead = 64 * 1024;
// Small packets are gathered into one channel write up to this size.
constexpr std::size_t kGather = 64 * 1024;

std::string message_of(const sftp::Status& s) {
  return s.message.empty() ? std::string(sftp::status_name(s.code)) : s.message;
}

// The answer was expected to be `type` or a refusal: throws FileError for a refusal (a STATUS
// that says OK where data was due is a failure too) and Failure for anything else.
void expect(const Pending& p, sftp::Type type, const std::string& cluster) {
  if (p.type == type) return;
  if (p.type == sftp::Type::status) {
    auto s = sftp::parse_status(p.body);
    throw FileError(s.code == FileStatus::ok ? FileStatus::failure : s.code, message_of(s));
  }
  throw Failure(ErrorKind::internal, "unexpected SFTP answer from " + cluster,
                "reply type " + std::to_string(static_cast<int>(p.type)));
}

void expect_ok(const Pending& p, const std::string& cluster) {
  expect(p, sftp::Type::status, cluster);
  auto s = sftp::parse_status(p.body);
  if (s.code != FileStatus::ok) throw FileError(s.code, message_of(s));
}

// Any exception of the channel or the protocol, as the Failure every request then gets.
std::exception_ptr as_failure(std::exception_ptr error, const std::string& cluster) {
  try {
    std::rethrow_exception(error);
  } catch (const Failure&) {
    return error;
  } catch (const sftp::ProtocolError& e) {
    return std::make_exception_ptr(
        Failure(ErrorKind::backend_unreachable, "cannot reach " + cluster + " over SFTP: the server broke the protocol", e.what()));
  } catch (const boost::system::system_error& e) {
    if (e.code() == asio::error::operation_aborted)
      return std::make_exception_ptr(Failure(ErrorKind::backend_unreachable, "cannot reach " + cluster + " over SFTP: the session was closed"));
    return std::make_exception_ptr(Failure(ErrorKind::backend_unreachable, "cannot reach " + cluster + " over SFTP: " + e.what()));
  } catch (const std::exception& e) {
    return std::make_exception_ptr(Failure(ErrorKind::backend_unreachable, "cannot reach " + cluster + " over SFTP: " + e.what()));
  }
}

}  // namespace

// ---- an open file -----------------------------------------------------------------------------

namespace {

class SftpFile final : public core::RemoteFile {
 public:
  SftpFile(std::shared_ptr<SftpSession> session, std::string handle)
      : session_(std::move(session)), handle_(std::move(handle)) {}

  ~SftpFile() override {
    if (!closed_ && session_->alive()) session_->send_and_forget(sftp::close(0, handle_));
  }

  asio::awaitable<FileAttributes> stat() override {
    auto packet = sftp::fstat(0, handle_);
    auto p = co_await session_->send(std::move(packet));
    co_await session_->receive(p);
    expect(*p, sftp::Type::attrs, session_->cluster());
    co_return sftp::parse_attrs(p->body);
  }

  void read_range(std::uint64_t offset, std::uint64_t length) override {
    next_ = offset;
    end_ = length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
    reads_.clear();
    ended_ = false;
  }

  asio::awaitable<std::string> read() override {
    for (;;) {
      while (!ended_ && reads_.size() < SftpSession::kAhead && next_ < end_) {
        const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(session_->read_piece(), end_ - next_));
        auto packet = sftp::read(0, handle_, next_, n);
        auto p = co_await session_->send(std::move(packet));
        reads_.push_back({next_, n, std::move(p)});
        next_ += n;
      }
      if (reads_.empty()) co_return std::string();
      auto r = std::move(reads_.front());
      reads_.pop_front();
      co_await session_->receive(r.pending);
      if (r.pending->type == sftp::Type::status && sftp::parse_status(r.pending->body).code == FileStatus::eof) {
        ended_ = true;  // what is still in flight is past the end: its answers are dropped
        reads_.clear();
        co_return std::string();
      }
      expect(*r.pending, sftp::Type::data, session_->cluster());
      std::string data = std::move(r.pending->body);
      if (data.size() > r.length) throw Failure(ErrorKind::internal, "the SFTP server sent more than was asked");
      if (data.empty()) {
        ended_ = true;
        reads_.clear();
        co_return data;
      }
      if (data.size() < r.length) {
        // A short read: the rest of its piece comes before the pieces already asked for.
        const auto at = r.offset + data.size();
        const auto rest = static_cast<std::uint32_t>(r.length - data.size());
        auto packet = sftp::read(0, handle_, at, rest);
        auto p = co_await session_->send(std::move(packet));
        reads_.push_front({at, rest, std::move(p)});
      }
      co_return data;
    }
  }

  asio::awaitable<void> write(std::string data) override {
    const std::size_t total = data.size();
    for (std::size_t at = 0; at < total;) {
      co_await settle(SftpSession::kAhead - 1);
      const auto n = std::min(session_->write_piece(), total - at);
      auto packet = sftp::write_header(0, handle_, written_, static_cast<std::uint32_t>(n));
      packet.append(data, at, n);
      auto p = co_await session_->send(std::move(packet));
      writes_.push_back(std::move(p));
      written_ += n;
      at += n;
    }
  }

  asio::awaitable<void> sync() override {
    co_await settle(0);
    if (!session_->version().has(sftp::kFsync)) co_return;  // the server cannot: the kernel's cache it is
    auto packet = sftp::fsync(0, handle_);
    auto p = co_await session_->send(std::move(packet));
    co_await session_->receive(p);
    expect_ok(*p, session_->cluster());
  }

  asio::awaitable<void> close() override {
    co_await settle(0);
    closed_ = true;
    auto packet = sftp::close(0, handle_);
    auto p = co_await session_->send(std::move(packet));
    co_await session_->receive(p);
    expect_ok(*p, session_->cluster());
  }

 private:
  struct Read {
    std::uint64_t offset;
    std::uint32_t length;
    std::shared_ptr<Pending> pending;
  };

  // Waits until at most `keep` writes are unacknowledged; throws the first refusal.
  asio::awaitable<void> settle(std::size_t keep) {
    while (writes_.size() > keep) {
      auto p = std::move(writes_.front());
      writes_.pop_front();
      co_await session_->receive(p);
      expect_ok(*p, session_->cluster());
    }
  }

  std::shared_ptr<SftpSession> session_;
  std::string handle_;
  bool closed_ = false;
  std::uint64_t next_ = 0, end_ = 0;
  bool ended_ = false;
  std::deque<Read> reads_;
  std::uint64_t written_ = 0;
  std::deque<std::shared_ptr<Pending>> writes_;
};

}  // namespace

// ---- the session --------------------------------------------------------------------------

SftpSession::SftpSession(Private, Strand strand, Channel channel, Settings settings)
    : strand_(std::move(strand)), channel_(std::move(channel)), settings_(std::move(settings)), in_(kInBuffer) {
  touch();
}

SftpSession::~SftpSession() = default;

asio::awaitable<std::shared_ptr<SftpSession>> SftpSession::start(Strand strand, Channel channel, Settings settings) {
  auto session = std::make_shared<SftpSession>(Private{}, strand, std::move(channel), std::move(settings));
  co_await asio::co_spawn(strand, session->handshake(), asio::use_awaitable);
  co_return session;
}

asio::awaitable<void> SftpSession::handshake() {
  auto self = shared_from_this();
  // Until the VERSION is in, a deadline closes the channel, which ends the read below.
  auto deadline = std::make_shared<asio::steady_timer>(strand_, settings_.timeout);
  auto timed_out = std::make_shared<bool>(false);
  deadline->async_wait([timed_out, channel = channel_](boost::system::error_code ec) mutable {
    if (ec) return;
    *timed_out = true;
    channel.close();
  });
  struct Cancel {
    asio::steady_timer& timer;
    ~Cancel() { timer.cancel(); }
  } cancel{*deadline};
  std::exception_ptr error;
  try {
    const auto hello = sftp::init();
    const auto buffer = asio::buffer(hello);
    co_await channel_.async_write(buffer);
    std::optional<std::size_t> size;
    while (!(size = sftp::packet_size(std::string_view(in_.data(), in_end_)))) {
      const auto room = asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
      auto n = co_await channel_.async_read_some(Stream::out, room);
      if (n == 0) throw Failure(ErrorKind::backend_unreachable, "cannot reach " + settings_.cluster + " over SFTP: the server ended the session at once");
      in_end_ += n;
    }
    version_ = sftp::parse_version(std::string_view(in_.data(), *size));
    in_begin_ = *size;
    if (version_.version != sftp::kVersion)
      throw Failure(ErrorKind::backend_unreachable, "cannot reach " + settings_.cluster + " over SFTP: the server speaks version " +
                                                        std::to_string(version_.version) + ", not 3");
  } catch (...) {
    error = *timed_out ? std::make_exception_ptr(Failure(ErrorKind::timeout, "the SFTP server of " + settings_.cluster + " did not answer in time"))
                      : as_failure(std::current_exception(), settings_.cluster);
  }
  if (error) {
    alive_ = false;
    channel_.close();
    std::rethrow_exception(error);
  }
  cancel.timer.cancel();
  asio::co_spawn(strand_, read_loop(), asio::detached);
  asio::co_spawn(strand_, drain_errors(), asio::detached);
  if (version_.has(sftp::kLimits)) {
    auto packet = sftp::limits(0);
    auto p = co_await do_send(std::move(packet));
    co_await do_receive(p);
    expect(*p, sftp::Type::extended_reply, settings_.cluster);
    const auto limits = sftp::parse_limits(p->body);
    // A read answer carries 13 bytes besides the data; stay within the server's packet size.
    auto fit = [&](std::uint64_t limit, std::size_t piece) {
      if (limit > 0) piece = std::min<std::uint64_t>(piece, limit);
      if (limits.max_packet > 1024) piece = std::min<std::uint64_t>(piece, limits.max_packet - 1024);
      return piece;
    };
    read_piece_ = fit(limits.max_read, kPiece);
    write_piece_ = fit(limits.max_write, kPiece);
  }
}

asio::awaitable<void> SftpSession::drain_errors() {
  auto self = shared_from_this();
  try {
    co_await drain(channel_, Stream::err, 0, err_, err_truncated_);
  } catch (...) {
    // the read loop sees the same end
  }
}

asio::awaitable<void> SftpSession::read_loop() {
  auto self = shared_from_this();
  try {
    for (;;) {
      // Whatever came with the VERSION is processed before reading more.
      while (auto size = sftp::packet_size(std::string_view(in_.data() + in_begin_, in_end_ - in_begin_))) {
        dispatch(std::string_view(in_.data() + in_begin_, *size));
        in_begin_ += *size;
      }
      if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
      // Made room only now, with every whole packet taken out: a buffer full of packets would
      // otherwise leave none, and a read into no room looks like the end of the session.
      if (in_.size() - in_end_ < kMinRead) {
        std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
      }
      if (!alive_) co_return;
      const auto room = asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
      auto n = co_await channel_.async_read_some(Stream::out, room);
      if (n == 0) throw Failure(ErrorKind::backend_unreachable, "cannot reach " + settings_.cluster + " over SFTP: the server ended the session");
      in_end_ += n;
    }
  } catch (...) {
    fail(as_failure(std::current_exception(), settings_.cluster));
  }
}

void SftpSession::dispatch(std::string_view packet) {
  auto reply = sftp::parse_reply(packet);
  auto it = pending_.find(reply.id);
  if (it == pending_.end()) throw sftp::ProtocolError("an answer to request " + std::to_string(reply.id) + ", which is not in flight");
  auto p = std::move(it->second);
  pending_.erase(it);
  in_flight_.store(pending_.size());
  p->type = reply.type;
  p->body = reply.type == sftp::Type::data ? sftp::parse_data(reply.body) : std::string(reply.body);
  p->answered = true;
  p->timer.cancel();
  touch();
  room_.notify();
}

void SftpSession::fail(std::exception_ptr error) {
  if (!alive_.exchange(false)) return;
  for (auto& [id, p] : pending_) {
    p->error = error;
    p->timer.cancel();
  }
  pending_.clear();
  in_flight_.store(0);
  outbox_.clear();
  queued_ = 0;
  room_.notify();
  channel_.close();
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::debug("sftp: {}: session closed: {}", settings_.cluster, e.what());
  }
}

void SftpSession::close(std::string reason) {
  asio::post(strand_, [self = shared_from_this(), reason = std::move(reason)] {
    self->fail(std::make_exception_ptr(
        Failure(ErrorKind::backend_unreachable, "cannot reach " + self->settings_.cluster + " over SFTP: " + reason)));
  });
}

asio::awaitable<std::shared_ptr<Pending>> SftpSession::send(std::string packet) {
  co_return co_await asio::co_spawn(strand_, do_send(std::move(packet)), asio::use_awaitable);
}

asio::awaitable<void> SftpSession::receive(std::shared_ptr<Pending> pending) {
  co_await asio::co_spawn(strand_, do_receive(std::move(pending)), asio::use_awaitable);
}

void SftpSession::send_and_forget(std::string packet) {
  asio::co_spawn(strand_, do_send(std::move(packet)), [](std::exception_ptr, std::shared_ptr<Pending>) {});
}

asio::awaitable<std::shared_ptr<Pending>> SftpSession::do_send(std::string packet) {
  auto self = shared_from_this();
  const auto deadline = Clock::now() + settings_.timeout;
  while (alive_ && (pending_.size() >= kMaxInFlight || queued_ >= kMaxQueued)) {
    if (!co_await room_.wait(deadline))
      throw Failure(ErrorKind::timeout, "the SFTP server of " + settings_.cluster + " did not take a request in time");
  }
  if (!alive_) throw Failure(ErrorKind::backend_unreachable, "cannot reach " + settings_.cluster + " over SFTP: the session was closed");
  const std::uint32_t id = next_id_++;
  packet[5] = static_cast<char>(id >> 24);
  packet[6] = static_cast<char>(id >> 16);
  packet[7] = static_cast<char>(id >> 8);
  packet[8] = static_cast<char>(id);
  auto p = std::make_shared<Pending>(strand_, deadline);
  pending_.emplace(id, p);
  in_flight_.store(pending_.size());
  touch();
  queued_ += packet.size();
  outbox_.push_back(std::move(packet));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(strand_, write_loop(), asio::detached);
  }
  co_return p;
}

asio::awaitable<void> SftpSession::do_receive(std::shared_ptr<Pending> p) {
  auto self = shared_from_this();
  while (!p->answered && !p->error) {
    co_await p->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (p->answered || p->error) break;
    if (Clock::now() >= p->deadline)
      fail(std::make_exception_ptr(Failure(ErrorKind::timeout, "the SFTP server of " + settings_.cluster + " did not answer within " +
                                                                   std::to_string(settings_.timeout.count()) + " ms")));
  }
  if (p->error) std::rethrow_exception(p->error);
}

asio::awaitable<void> SftpSession::write_loop() {
  auto self = shared_from_this();
  try {
    while (alive_ && !outbox_.empty()) {
      std::string chunk = std::move(outbox_.front());
      outbox_.pop_front();
      while (!outbox_.empty() && chunk.size() + outbox_.front().size() <= kGather) {
        chunk += outbox_.front();
        outbox_.pop_front();
      }
      const auto bytes = asio::buffer(chunk);
      co_await channel_.async_write(bytes);
      queued_ -= std::min(queued_, chunk.size());
      room_.notify();
    }
  } catch (...) {
    fail(as_failure(std::current_exception(), settings_.cluster));
  }
  writing_ = false;
}

asio::awaitable<std::shared_ptr<Pending>> SftpSession::call(std::string packet) {
  auto p = co_await send(std::move(packet));
  co_await receive(p);
  co_return p;
}

asio::awaitable<void> SftpSession::status_call(std::string packet) {
  auto p = co_await call(std::move(packet));
  expect_ok(*p, settings_.cluster);
}

// ---- core::RemoteFiles ----------------------------------------------------------------------

asio::awaitable<FileAttributes> SftpSession::stat(std::string path, bool follow_links) {
  auto packet = follow_links ? sftp::stat(0, path) : sftp::lstat(0, path);
  auto p = co_await call(std::move(packet));
  expect(*p, sftp::Type::attrs, settings_.cluster);
  co_return sftp::parse_attrs(p->body);
}

asio::awaitable<std::string> SftpSession::read_link(std::string path) {
  auto packet = sftp::readlink(0, path);
  auto p = co_await call(std::move(packet));
  expect(*p, sftp::Type::name, settings_.cluster);
  auto names = sftp::parse_name(p->body);
  if (names.size() != 1) throw Failure(ErrorKind::internal, "unexpected SFTP answer to readlink from " + settings_.cluster);
  co_return std::move(names.front().filename);
}

asio::awaitable<std::unique_ptr<core::RemoteFile>> SftpSession::open(std::string path, Open mode) {
  const auto flags = mode == Open::read ? sftp::open_flag::read
                                        : sftp::open_flag::write | sftp::open_flag::create | sftp::open_flag::exclusive;
  auto packet = sftp::open(0, path, flags);
  auto p = co_await call(std::move(packet));
  expect(*p, sftp::Type::handle, settings_.cluster);
  co_return std::make_unique<SftpFile>(shared_from_this(), sftp::parse_handle(p->body));
}

asio::awaitable<void> SftpSession::make_directory(std::string path) {
  auto packet = sftp::mkdir(0, path);
  co_await status_call(std::move(packet));
}

asio::awaitable<void> SftpSession::make_symlink(std::string target, std::string link) {
  auto packet = sftp::symlink(0, target, link);
  co_await status_call(std::move(packet));
}

asio::awaitable<void> SftpSession::set_mode(std::string path, std::uint32_t mode) {
  FileAttributes attrs;
  attrs.mode = mode & 07777u;
  auto packet = sftp::setstat(0, path, attrs);
  co_await status_call(std::move(packet));
}

asio::awaitable<void> SftpSession::remove(std::string path) {
  auto packet = sftp::remove(0, path);
  co_await status_call(std::move(packet));
}

asio::awaitable<void> SftpSession::rename(std::string from, std::string to) {
  // Plain SSH_FXP_RENAME refuses an existing target on OpenSSH: only the extension replaces.
  if (!version_.has(sftp::kPosixRename)) throw FileError(FileStatus::op_unsupported, "the server has no POSIX rename");
  auto packet = sftp::posix_rename(0, from, to);
  co_await status_call(std::move(packet));
}

asio::awaitable<std::string> SftpSession::user_name(std::uint32_t uid) {
  co_return co_await asio::co_spawn(strand_, name_of(true, uid), asio::use_awaitable);
}

asio::awaitable<std::string> SftpSession::group_name(std::uint32_t gid) {
  co_return co_await asio::co_spawn(strand_, name_of(false, gid), asio::use_awaitable);
}

asio::awaitable<std::string> SftpSession::local_time_zone() {
  {
    std::lock_guard lock(zone_mutex_);
    if (zone_) co_return *zone_;
  }
  // Two first callers may both read it: the same bytes, and the cost of one small file.
  std::string data;
  try {
    auto file = co_await open("/etc/localtime", Open::read);
    file->read_range(0, 1024 * 1024);  // TZif files are a few KiB
    for (;;) {
      auto piece = co_await file->read();
      if (piece.empty()) break;
      data += piece;
    }
  } catch (const FileError& e) {
    if (e.status() != FileStatus::no_such_file) throw;
    data.clear();
  }
  std::lock_guard lock(zone_mutex_);
  zone_ = data;
  co_return data;
}

asio::awaitable<std::string> SftpSession::name_of(bool user, std::uint32_t id) {
  auto self = shared_from_this();
  auto& cache = user ? users_ : groups_;
  if (auto it = cache.find(id); it != cache.end()) co_return it->second;
  if (!version_.has(sftp::kUsersGroupsById))
    throw FileError(FileStatus::op_unsupported, "the server cannot name users and groups");
  std::vector<std::uint32_t> ids{id};
  auto packet = user ? sftp::users_groups_by_id(0, ids, {}) : sftp::users_groups_by_id(0, {}, ids);
  auto p = co_await do_send(std::move(packet));
  co_await do_receive(p);
  expect(*p, sftp::Type::extended_reply, settings_.cluster);
  auto [users, groups] = sftp::parse_users_groups(p->body);
  auto& names = user ? users : groups;
  if (names.size() != 1) throw Failure(ErrorKind::internal, "unexpected SFTP answer to users-groups-by-id from " + settings_.cluster);
  // Names are remembered for the session's life, as long as the connection is used.
  cache[id] = names.front();
  co_return names.front();
}

}  // namespace portico::ssh

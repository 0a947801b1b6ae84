#include "transfer/streams.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "filesystem/errors.hpp"
#include "filesystem/file_calls.hpp"
#include "filesystem/paths.hpp"
#include "filesystem/stream_commands.hpp"
#include "http/multipart.hpp"
#include "ssh/channel.hpp"

namespace portico::transfer {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;
using core::RemoteFiles;

namespace {

constexpr std::size_t kChunk = 256 * 1024;
constexpr std::size_t kMaxStderr = 16 * 1024;
// What a multipart body may carry besides the file (delimiters, part headers, small fields).
constexpr std::uint64_t kMultipartOverhead = 64 * 1024;

// ---- the scripts' channels --------------------------------------------------------------------

// Closes the channel when its owner leaves, however it leaves.
struct CloseOnExit {
  ssh::Channel channel;
  ~CloseOnExit() {
    if (channel) channel.close();
  }
};

// Closes the channel if the command has not produced its first line within the cluster's command
// timeout (a hung file system): the reads then end and the caller reports a timeout.
class Watchdog {
 public:
  Watchdog(asio::any_io_executor executor, std::chrono::milliseconds limit, ssh::Channel channel)
      : timer_(std::make_shared<asio::steady_timer>(executor, limit)), fired_(std::make_shared<bool>(false)) {
    timer_->async_wait([fired = fired_, channel = std::move(channel)](boost::system::error_code ec) mutable {
      if (ec) return;
      *fired = true;
      channel.close();
    });
  }
  ~Watchdog() { timer_->cancel(); }
  void stop() { timer_->cancel(); }
  bool fired() const { return *fired_; }

 private:
  std::shared_ptr<asio::steady_timer> timer_;
  std::shared_ptr<bool> fired_;
};

// Reads stdout up to and including the first newline; returns the line and keeps what came
// after it in `rest`. nullopt when stdout ended first (the script failed).
asio::awaitable<std::optional<std::string>> first_line(ssh::Channel channel, std::vector<char>& buffer, std::string& rest) {
  std::string head;
  for (;;) {
    const auto room = asio::buffer(buffer);
    auto n = co_await channel.async_read_some(ssh::Stream::out, room);
    if (n == 0) co_return std::nullopt;
    head.append(buffer.data(), n);
    if (auto nl = head.find('\n'); nl != std::string::npos) {
      rest = head.substr(nl + 1);
      head.resize(nl);
      co_return head;
    }
    if (head.size() > 64) throw Failure(ErrorKind::internal, "unexpected output from the transfer script");
  }
}

// How a script ended, once it ended without its first line (it failed, or the watchdog fired).
asio::awaitable<core::CommandResult> script_result(ssh::Channel channel, const std::string& err, bool timed_out) {
  core::CommandResult result;
  result.err = err;
  if (timed_out) {
    result.timed_out = true;
  } else {
    auto exit = co_await channel.wait_exit();
    result.exit_status = exit.signal.empty() ? exit.status.value_or(-1) : -1;
    result.signal = exit.signal;
  }
  co_return result;
}

// The failure a streaming script's outcome means (a path that is not a regular file: 400).
// (Not thrown from inside a co_await expression: g++ 12 frees such an exception twice.)
Failure script_failure(const core::CommandResult& result, std::string_view what) {
  if (filesystem::is_not_regular_file_message(result.err))
    return Failure(ErrorKind::bad_request, "not a regular file: only regular files can be downloaded");
  return filesystem::command_failure(result, what);
}

// ---- downloads ----------------------------------------------------------------------------------

// By the download script: its size line, then (ranged) the range it is sent, then the bytes.
class ScriptDownload final : public DownloadSource {
 public:
  ScriptDownload(ssh::Channel channel, bool ranged) : channel_(std::move(channel)), ranged_(ranged), buffer_(kChunk) {}
  ~ScriptDownload() override { close(); }

  static asio::awaitable<std::unique_ptr<DownloadSource>> open(cluster::UserRunner& runner, const config::Ssh& ssh,
                                                               std::string path, bool ranged) {
    auto argv = filesystem::download_argv(path, ranged);
    const auto deadline = std::chrono::steady_clock::now() + ssh.command_timeout;
    auto channel = co_await runner.open(std::move(argv), deadline);
    auto source = std::make_unique<ScriptDownload>(channel, ranged);
    auto executor = co_await asio::this_coro::executor;
    Watchdog watchdog(executor, ssh.command_timeout, channel);
    std::optional<std::string> line;
    std::exception_ptr error;
    try {
      line = co_await first_line(channel, source->buffer_, source->rest_);
    } catch (...) {
      error = std::current_exception();
    }
    watchdog.stop();
    if (!line) {
      // The script refused (its stderr, small, says why: reading stdout first cannot stall it),
      // or the watchdog fired, or the connection was lost.
      if (error && !watchdog.fired()) std::rethrow_exception(error);
      std::string err;
      bool truncated = false;
      if (!watchdog.fired()) co_await ssh::drain(channel, ssh::Stream::err, kMaxStderr, err, truncated);
      auto result = co_await script_result(channel, err, watchdog.fired());
      auto failure = script_failure(result, "download");
      throw failure;
    }
    auto size = filesystem::parse_size_line(*line);
    if (!size) throw Failure(ErrorKind::internal, "unexpected output from the download script");
    source->size_ = *size;
    co_return source;
  }

  std::uint64_t size() const override { return size_; }

  asio::awaitable<void> select(std::uint64_t first, std::uint64_t length) override {
    if (!ranged_) co_return;  // the script sends the whole file
    const auto request = std::to_string(first) + " " + std::to_string(length) + "\n";
    const auto bytes = asio::buffer(request);
    co_await channel_.async_write(bytes);
    co_await channel_.send_eof();
  }

  asio::awaitable<std::string_view> read() override {
    if (!rest_.empty()) {
      held_ = std::move(rest_);
      rest_.clear();
      co_return held_;
    }
    const auto room = asio::buffer(buffer_);
    const auto n = co_await channel_.async_read_some(ssh::Stream::out, room);
    co_return std::string_view(buffer_.data(), n);
  }

  void close() override {
    if (channel_) channel_.close();
  }

 private:
  ssh::Channel channel_;
  bool ranged_;
  std::vector<char> buffer_;
  std::string rest_;  // what came with the size line
  std::string held_;
  std::uint64_t size_ = 0;
};

// Over file calls: stat, open, then reads kept in flight (RemoteFile::read).
class FileDownload final : public DownloadSource {
 public:
  FileDownload(std::unique_ptr<core::RemoteFile> file, std::uint64_t size) : file_(std::move(file)), size_(size) {}

  // Null when the script must answer: a refusal, or not a regular file (opening a FIFO would
  // hold the session; the script says what a directory or a device is).
  static asio::awaitable<std::unique_ptr<DownloadSource>> open(RemoteFiles& files, std::string path) {
    std::unique_ptr<core::RemoteFile> file;
    std::uint64_t size = 0;
    try {
      auto attrs = co_await files.stat(path, true);
      if (attrs.is_regular() && attrs.size) {
        size = *attrs.size;
        file = co_await files.open(path, RemoteFiles::Open::read);
      }
    } catch (const core::FileError&) {
      file.reset();
    }
    if (!file) co_return nullptr;
    co_return std::make_unique<FileDownload>(std::move(file), size);
  }

  std::uint64_t size() const override { return size_; }

  asio::awaitable<void> select(std::uint64_t first, std::uint64_t length) override {
    file_->read_range(first, length);
    co_return;
  }

  asio::awaitable<std::string_view> read() override {
    if (!file_) co_return std::string_view();
    std::optional<std::string> refused;
    try {
      piece_ = co_await file_->read();
    } catch (const core::FileError& e) {
      refused = e.what();
    }
    // The reply has begun: a read refused now (an I/O error) can only cut it.
    if (refused) throw Failure(ErrorKind::internal, "reading the file failed: " + *refused);
    co_return piece_;
  }

  void close() override { file_.reset(); }  // the file's CLOSE goes out; nobody waits for it

 private:
  std::unique_ptr<core::RemoteFile> file_;
  std::uint64_t size_;
  std::string piece_;
};

// ---- uploads ------------------------------------------------------------------------------------

// The request body of an upload: the multipart parts up to the file part (which names the
// target), the file's bytes gathered into chunks (the body arrives in pieces as small as the
// client's TCP segments, and each write to the cluster costs a hop and a packet), then the rest,
// which must not hold a second file part.
class UploadBody {
 public:
  UploadBody(http::BodyReader& body, std::string boundary, std::string dir, std::uint64_t limit)
      : body_(body), reader_(std::move(boundary)), dir_(std::move(dir)), limit_(limit), buffer_(kChunk) {}

  asio::awaitable<std::string> target() {
    for (;;) {
      auto step = co_await next_step();
      if (step.kind == Step::end) throw core::validation_error("body", "file", "is required (a multipart part named \"file\")");
      if (step.kind != Step::part || step.headers.name != "file") continue;
      if (!step.headers.filename) throw core::validation_error("body", "file", "the file part has no filename");
      co_return filesystem::child_path(dir_, filesystem::confine_target_name(*step.headers.filename, "body", "file"));
    }
  }

  // The next chunk of the file part; nullopt once it has ended.
  asio::awaitable<std::optional<std::string>> next_chunk() {
    std::optional<std::string> chunk;
    while (!ended_) {
      auto step = co_await next_step();
      if (step.kind == Step::bytes) {
        written_ += step.data.size();
        if (written_ > limit_)
          throw Failure(ErrorKind::too_large, "the file exceeds this system's upload limit of " + std::to_string(limit_) + " bytes");
        if (!chunk) chunk.emplace().reserve(kChunk);
        chunk->append(step.data);
      }
      if (step.kind == Step::part_end || step.kind == Step::end) ended_ = true;
      if (chunk && chunk->size() >= kChunk) break;
    }
    co_return chunk;
  }

  asio::awaitable<void> rest() {
    for (;;) {
      auto step = co_await next_step();
      if (step.kind == Step::end) break;
      if (step.kind == Step::part && step.headers.name == "file")
        throw core::validation_error("body", "file", "must be given once, not twice");
    }
    for (;;) {  // an epilogue: read, so that the connection can be kept
      const auto room = asio::buffer(buffer_);
      if (co_await body_.read_some(room) == 0) break;
    }
  }

 private:
  using Step = http::MultipartReader::Step;

  // Feeds the reader from the request body until it has a step other than need_input.
  asio::awaitable<Step> next_step() {
    for (;;) {
      auto step = reader_.next();
      if (step.kind != Step::need_input) co_return step;
      const auto room = asio::buffer(buffer_);
      auto n = co_await body_.read_some(room);
      if (n == 0)
        reader_.finish_input();
      else
        reader_.feed(std::string_view(buffer_.data(), n));
    }
  }

  http::BodyReader& body_;
  http::MultipartReader reader_;
  std::string dir_;
  std::uint64_t limit_;
  std::vector<char> buffer_;
  std::uint64_t written_ = 0;
  bool ended_ = false;
};

// Removes what an interrupted upload left, by the command when the file calls cannot.
asio::awaitable<void> remove_temp(cluster::UserRunner& runner, RemoteFiles* files, std::string temp,
                                  std::string request_id) {
  bool removed = false;
  if (files) {
    try {
      co_await files->remove(temp);
      removed = true;
    } catch (const std::exception&) {
      // the command tries
    }
  }
  if (removed) co_return;
  try {
    core::Command cleanup;
    cleanup.argv = filesystem::upload_cleanup_argv(temp);
    co_await runner.run(std::move(cleanup));
  } catch (const std::exception& e) {
    spdlog::warn("request {}: could not remove an interrupted upload's temporary file: {}", request_id, e.what());
  }
}

// Renames temp over target with the file calls; false when the commit script must (a directory
// where the target goes, or a refusal, whose words are the script's).
asio::awaitable<bool> commit_by_file_calls(RemoteFiles& files, std::string temp, std::string target) {
  bool clear = false;
  try {
    auto attrs = co_await files.stat(target, true);
    clear = !attrs.is_directory();
  } catch (const core::FileError& e) {
    clear = e.status() == core::FileStatus::no_such_file;  // a new file
  }
  if (!clear) co_return false;
  bool renamed = false;
  try {
    co_await files.rename(temp, target);
    renamed = true;
  } catch (const core::FileError&) {
    // the script says why
  }
  co_return renamed;
}

// The upload over file calls: the temporary file is made (exclusively) before the body is read,
// then written, fsynced, closed and renamed over the target. nullopt when the script must do it:
// then nothing was read from the body and nothing made on the cluster.
asio::awaitable<std::optional<std::string>> upload_by_file_calls(cluster::UserRunner& runner, RemoteFiles& files,
                                                                 UploadBody& body, std::string dir, std::string temp,
                                                                 std::string request_id) {
  filesystem::file_calls::Record record(runner, "upload");
  std::unique_ptr<core::RemoteFile> file;
  try {
    auto attrs = co_await files.stat(dir, true);
    if (attrs.is_directory()) file = co_await files.open(temp, RemoteFiles::Open::create_new);
  } catch (const core::FileError&) {
    file.reset();  // the script refuses in its own words
  }
  if (!file) {
    record.done(false);
    co_return std::nullopt;
  }

  std::exception_ptr failure;
  std::string target;
  bool committed = false;
  try {
    target = co_await body.target();
    for (;;) {
      auto chunk = co_await body.next_chunk();
      if (!chunk) break;
      co_await file->write(std::move(*chunk));
    }
    co_await body.rest();
    co_await file->sync();
    co_await file->close();
    file.reset();
    committed = co_await commit_by_file_calls(files, temp, target);
  } catch (const core::FileError& e) {
    // Nothing can be asked again of a body already read: the server's words it is.
    failure = std::make_exception_ptr(Failure(ErrorKind::internal, std::string("upload: the file could not be written: ") + e.what()));
  } catch (...) {
    failure = std::current_exception();
  }
  file.reset();
  if (failure) {
    co_await remove_temp(runner, &files, temp, request_id);
    std::rethrow_exception(failure);
  }
  record.done(committed);
  if (!committed) {
    // The script's commit: it refuses a directory in the target's place, and removes temp
    // whenever it does not rename it.
    core::Command commit;
    commit.argv = filesystem::upload_commit_argv(temp, target);
    auto result = co_await runner.run(std::move(commit));
    if (!result.ok()) {
      auto refusal = filesystem::command_failure(result, "upload");
      throw refusal;
    }
  }
  co_return target;
}

// The upload by the script: it checks the directory and makes the temporary file, says "ready",
// then copies its stdin into the file; a second command renames it over the target.
struct ScriptUpload {
  UploadBody& body;
  ssh::Channel channel;
  std::string err;
  bool err_truncated = false;
  std::string target;     // known once the file part's headers have arrived
  bool ready = false;     // the temporary file exists
  bool complete = false;  // every byte of the file part was written, then EOF
  std::shared_ptr<Watchdog> watchdog;
};

// Once the script is ready: the request body is read (only now: a client that sent
// "Expect: 100-continue" to a bad directory has not sent it), the file part's name makes the
// target, its bytes go to the command's stdin.
asio::awaitable<void> pump_upload(ScriptUpload& u) {
  try {
    std::vector<char> buffer(kChunk);
    std::string rest;
    auto line = co_await first_line(u.channel, buffer, rest);
    u.watchdog->stop();
    if (!line) co_return;  // the script refused: its stderr says why
    if (*line != "ready") throw Failure(ErrorKind::internal, "unexpected output from the upload script");
    u.ready = true;
    u.target = co_await u.body.target();
    for (;;) {
      auto chunk = co_await u.body.next_chunk();
      if (!chunk) break;
      const auto bytes = asio::buffer(*chunk);
      co_await u.channel.async_write(bytes);
    }
    co_await u.body.rest();
    co_await u.channel.send_eof();
    u.complete = true;
  } catch (...) {
    u.channel.close();
    throw;
  }
}

asio::awaitable<std::string> upload_by_script(cluster::UserRunner& runner, const config::Ssh& ssh, UploadBody& body,
                                              std::string dir, std::string temp, std::string request_id) {
  auto argv = filesystem::upload_argv(dir, temp);
  const auto deadline = std::chrono::steady_clock::now() + ssh.command_timeout;
  auto channel = co_await runner.open(std::move(argv), deadline);
  CloseOnExit guard{channel};
  auto executor = co_await asio::this_coro::executor;
  auto watchdog = std::make_shared<Watchdog>(executor, ssh.command_timeout, channel);
  ScriptUpload u{body, channel, {}, false, {}, false, false, watchdog};

  std::exception_ptr failure;
  try {
    auto [order, pump_error, drain_error] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, pump_upload(u), asio::deferred),
            asio::co_spawn(executor, ssh::drain(channel, ssh::Stream::err, kMaxStderr, u.err, u.err_truncated), asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    (void)order;
    if (pump_error) std::rethrow_exception(pump_error);
    if (!u.ready) {
      if (drain_error && !u.watchdog->fired()) std::rethrow_exception(drain_error);
      auto result = co_await script_result(channel, u.err, u.watchdog->fired());
      throw script_failure(result, "upload");
    }
    auto exit = co_await channel.wait_exit();
    if (!u.complete || exit.status.value_or(-1) != 0 || !exit.signal.empty()) {
      core::CommandResult result;
      result.err = u.err;
      result.exit_status = exit.signal.empty() ? exit.status.value_or(-1) : -1;
      result.signal = exit.signal;
      throw filesystem::command_failure(result, "upload");
    }
    core::Command commit;
    commit.argv = filesystem::upload_commit_argv(temp, u.target);
    auto result = co_await runner.run(std::move(commit));
    if (!result.ok()) throw filesystem::command_failure(result, "upload");
    co_return u.target;
  } catch (...) {
    failure = std::current_exception();
  }
  // Whatever went wrong once the script had created the temporary file, that file goes; the
  // target was never touched.
  channel.close();
  if (u.ready) co_await remove_temp(runner, nullptr, temp, request_id);
  std::rethrow_exception(failure);
}

}  // namespace

asio::awaitable<std::unique_ptr<DownloadSource>> open_download(cluster::UserRunner& runner, const config::Ssh& ssh,
                                                               std::string path, bool ranged) {
  if (auto files = co_await runner.files()) {
    filesystem::file_calls::Record record(runner, "download");
    auto source = co_await FileDownload::open(*files, path);
    record.done(source != nullptr);
    if (source) co_return source;
  }
  co_return co_await ScriptDownload::open(runner, ssh, std::move(path), ranged);
}

asio::awaitable<std::string> upload(cluster::UserRunner& runner, const config::Ssh& ssh, http::BodyReader* body,
                                    std::string_view content_type, const std::string& dir, std::uint64_t limit,
                                    std::string request_id) {
  if (!body) throw core::validation_error("body", "file", "is required (a multipart part named \"file\")");
  auto length = body->content_length();
  if (length && *length > limit + kMultipartOverhead)
    throw Failure(ErrorKind::too_large, "the upload (" + std::to_string(*length) + " bytes) exceeds this system's limit of " +
                                            std::to_string(limit) + " bytes");
  auto boundary = http::multipart_boundary(content_type);
  if (!boundary) throw core::validation_error("body", "file", "the body must be multipart/form-data with a boundary");

  auto temp = filesystem::upload_temp_name(dir, core::random_bytes(16));
  UploadBody reader(*body, *boundary, dir, limit);
  if (auto files = co_await runner.files()) {
    auto target = co_await upload_by_file_calls(runner, *files, reader, dir, temp, request_id);
    if (target) co_return std::move(*target);
  }
  co_return co_await upload_by_script(runner, ssh, reader, dir, std::move(temp), std::move(request_id));
}

}  // namespace portico::transfer

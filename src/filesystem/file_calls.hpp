#pragma once
// The file operations that need no tool to define their answer, done with file calls
// (core::RemoteFiles: the SFTP session of the user's connection) instead of a command: no
// process is started on the cluster for them. operations.cpp uses these when the runner offers
// file calls and runs the command otherwise.
//
// Each gives the answer the command would give, or nullopt (false) when it cannot be sure to:
// a refusal (SFTP v3 says "no such file" for ENOTDIR and ELOOP too, and "failure" for most
// else), or a file that is not a regular one (a FIFO would block the session, a device has no
// size). The command then runs and gives the exact answer and error it always gave. Nothing is
// changed on the cluster by a call that returns nullopt. Paths are confined by the caller, as
// for the commands.
//
// Thread safety: as core::RemoteFiles; the functions keep no state.

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/command.hpp"
#include "core/remote_files.hpp"
#include "filesystem/head_tail.hpp"
#include "filesystem/validate.hpp"

namespace portico::filesystem::file_calls {

template <class T>
using Task = boost::asio::awaitable<T>;

// dd's bytes [range.offset, range.offset + range.size) of a regular file.
Task<std::optional<std::string>> view(core::RemoteFiles& files, std::string path, ViewRange range);

// head -c / tail -c of a regular file; throws part_too_large() as the command's answer would.
// REQUIRES: request.count.unit is bytes.
Task<std::optional<FilePart>> head_tail(core::RemoteFiles& files, std::string path, HeadTailRequest request,
                                        std::int64_t max_content);

// rm of what is not a directory (unlink(2)); false leaves a directory, and every refusal, to
// `rm -r`.
Task<bool> rm(core::RemoteFiles& files, std::string path);

// The audit line's entry of an operation done with file calls: "sftp:<operation>" with status 0
// when they gave the answer, 1 when they left it to the command (whose own entry follows), -1
// when they failed (the exception is the operation's).
class Record {
 public:
  Record(core::CommandRunner& runner, std::string what)
      : runner_(runner), what_("sftp:" + std::move(what)), start_(std::chrono::steady_clock::now()) {}
  ~Record() { finish(-1); }
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;
  // answered: the file calls gave the answer.
  void done(bool answered) { finish(answered ? 0 : 1); }

 private:
  void finish(int status);
  core::CommandRunner& runner_;
  std::string what_;
  std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

}  // namespace portico::filesystem::file_calls

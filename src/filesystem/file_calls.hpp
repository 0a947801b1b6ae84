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
// changed on the cluster by a call that returns nullopt or false. Paths are confined by the
// caller, as for the commands.
//
// One difference a site may have to mind: the SFTP server's umask and time zone are those of
// sshd's process and of /etc/localtime, the commands' those of the user's session (a umask or a
// TZ set in a shell's startup file). Where sessions set their own, run internal-sftp with `-u`
// or switch file calls off (`ssh.sftp: false`).
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
#include "filesystem/ls_parse.hpp"
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

// mkdir(2) of one directory (mode 0777 less the umask, as mkdir(1)); false when refused.
Task<bool> mkdir(core::RemoteFiles& files, std::string path);
// symlink(2) as `ln -s -- target link` makes it; false when refused (an existing `link` among
// them: ln then makes the link inside a directory, or says why).
Task<bool> symlink(core::RemoteFiles& files, std::string target, std::string link);
// chmod(1) with an octal mode (its value, 07777 at most): the mode is set as given, except that a
// directory keeps the set-user-ID and set-group-ID bits the mode does not set, as GNU chmod
// keeps them for a numeric mode of up to four digits. false when refused.
Task<bool> chmod(core::RemoteFiles& files, std::string path, std::uint32_t mode);

// The entry `ls -ld PATH` prints for path itself (ls_entry.hpp), from its attributes, link
// target, owner's names and the cluster's time zone; nullopt when they cannot give it exactly.
Task<std::optional<LsEntry>> describe(core::RemoteFiles& files, std::string path);

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

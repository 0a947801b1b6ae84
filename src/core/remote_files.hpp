#pragma once
// File calls on a cluster as a user without starting a process there: what a CommandRunner
// offers beside commands when its connection has a file service (the SFTP session of the
// user's pooled SSH connection, ssh/sftp_session.hpp). The server acts as the user, so the
// kernel decides every permission exactly as it does for a command.
//
// A call the server refuses throws FileError with the server's status. Those statuses are
// coarse (SFTP v3 sends ENOTDIR and ELOOP as "no such file", EEXIST as "failure"), so the file
// operations leave the answer to a refused call to the tool that defines it (filesystem/
// operations.cpp). A call that cannot be made throws core::Failure as a command would
// (backend_unreachable, timeout).
//
// Thread-safety: RemoteFiles from any thread, concurrently; one RemoteFile's calls one at a time.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace portico::core {

// SFTP v3's status codes (draft-ietf-secsh-filexfer-02, 7).
enum class FileStatus : std::uint32_t {
  ok = 0,
  eof = 1,
  no_such_file = 2,
  permission_denied = 3,
  failure = 4,
  bad_message = 5,
  no_connection = 6,
  connection_lost = 7,
  op_unsupported = 8,
};

class FileError : public std::runtime_error {
 public:
  FileError(FileStatus status, const std::string& message) : std::runtime_error(message), status_(status) {}
  FileStatus status() const noexcept { return status_; }

 private:
  FileStatus status_;
};

// What the server tells of a file; a field is absent when the server did not send it.
struct FileAttributes {
  std::optional<std::uint64_t> size;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  std::optional<std::uint32_t> mode;  // st_mode, file type bits included
  std::optional<std::uint32_t> atime;
  std::optional<std::uint32_t> mtime;

  std::uint32_t type() const noexcept { return mode.value_or(0) & 0170000u; }
  bool is_regular() const noexcept { return type() == 0100000u; }
  bool is_directory() const noexcept { return type() == 0040000u; }
  bool is_symlink() const noexcept { return type() == 0120000u; }
};

// An open file. Dropping it closes it without waiting for the server.
class RemoteFile {
 public:
  virtual ~RemoteFile() = default;

  virtual boost::asio::awaitable<FileAttributes> stat() = 0;

  // Sets the bytes read() returns next: from `offset` on, `length` at most.
  virtual void read_range(std::uint64_t offset, std::uint64_t length) = 0;
  // The next piece of the range, in order; "" once the range or the file has ended. Reads are
  // kept in flight ahead of the caller (a bounded number of bytes), so a stream does not wait a
  // round trip per piece.
  virtual boost::asio::awaitable<std::string> read() = 0;

  // Appends data to what was written so far (from offset 0). Returns once the data is on its
  // way, with a bounded number of bytes unacknowledged; a write the server refused is thrown by
  // a later write() or by sync().
  virtual boost::asio::awaitable<void> write(std::string data) = 0;
  // Waits until every write is acknowledged, then has the server fsync(2) the file.
  virtual boost::asio::awaitable<void> sync() = 0;

  virtual boost::asio::awaitable<void> close() = 0;
};

class RemoteFiles {
 public:
  enum class Open {
    read,        // O_RDONLY
    create_new,  // O_WRONLY|O_CREAT|O_EXCL, mode 0666 less the umask: never an existing file or link
  };

  virtual ~RemoteFiles() = default;

  // stat(2), or lstat(2) when follow_links is false.
  virtual boost::asio::awaitable<FileAttributes> stat(std::string path, bool follow_links) = 0;
  virtual boost::asio::awaitable<std::string> read_link(std::string path) = 0;
  virtual boost::asio::awaitable<std::unique_ptr<RemoteFile>> open(std::string path, Open mode) = 0;
  // mkdir(2) with mode 0777 less the umask, as mkdir(1).
  virtual boost::asio::awaitable<void> make_directory(std::string path) = 0;
  // symlink(2): `link` is made, pointing to `target`.
  virtual boost::asio::awaitable<void> make_symlink(std::string target, std::string link) = 0;
  // chmod(2) (follows a symbolic link).
  virtual boost::asio::awaitable<void> set_mode(std::string path, std::uint32_t mode) = 0;
  // unlink(2).
  virtual boost::asio::awaitable<void> remove(std::string path) = 0;
  // rename(2), which replaces `to`; throws FileError(op_unsupported) when the server cannot.
  virtual boost::asio::awaitable<void> rename(std::string from, std::string to) = 0;
  // The names of a uid and a gid on the cluster ("" when it has none), as ls(1) shows them.
  virtual boost::asio::awaitable<std::string> user_name(std::uint32_t uid) = 0;
  virtual boost::asio::awaitable<std::string> group_name(std::uint32_t gid) = 0;
  // The bytes of the cluster's /etc/localtime (TZif), the zone the tools show times in; ""
  // when it has none (then glibc's UTC). Read once per session.
  virtual boost::asio::awaitable<std::string> local_time_zone() = 0;
};

}  // namespace portico::core

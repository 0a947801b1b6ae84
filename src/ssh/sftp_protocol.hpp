#pragma once
// The pure parts of SFTP version 3 (draft-ietf-secsh-filexfer-02, as OpenSSH's sftp-server and
// internal-sftp speak it) and of the OpenSSH extensions Portico uses (OpenSSH's PROTOCOL, 4.x):
// request packets, reply parsing, file attributes and status codes. No I/O: sftp_session.hpp
// sends and receives these over a channel.
//
// A packet is a uint32 length, a type byte, a uint32 request id (not in INIT and VERSION), then
// the fields of its type; integers are big-endian, strings a uint32 length and the bytes.
//
// Thread safety: pure functions and values.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/remote_files.hpp"

namespace portico::ssh::sftp {

constexpr std::uint32_t kVersion = 3;

// The largest packet taken from a server. OpenSSH's are at most 256 KiB (SFTP_MAX_MSG_LENGTH);
// a longer length field means the stream is broken, and would make us buffer without bound.
constexpr std::size_t kMaxPacket = 256 * 1024;

enum class Type : std::uint8_t {
  init = 1,
  version = 2,
  open = 3,
  close = 4,
  read = 5,
  write = 6,
  lstat = 7,
  fstat = 8,
  setstat = 9,
  fsetstat = 10,
  opendir = 11,
  readdir = 12,
  remove = 13,
  mkdir = 14,
  rmdir = 15,
  realpath = 16,
  stat = 17,
  rename = 18,
  readlink = 19,
  symlink = 20,
  status = 101,
  handle = 102,
  data = 103,
  name = 104,
  attrs = 105,
  extended = 200,
  extended_reply = 201,
};

// SSH_FXF_* of OPEN.
namespace open_flag {
constexpr std::uint32_t read = 0x01;
constexpr std::uint32_t write = 0x02;
constexpr std::uint32_t append = 0x04;
constexpr std::uint32_t create = 0x08;
constexpr std::uint32_t truncate = 0x10;
constexpr std::uint32_t exclusive = 0x20;
}  // namespace open_flag

// SSH_FILEXFER_ATTR_* of ATTRS.
namespace attr_flag {
constexpr std::uint32_t size = 0x01;
constexpr std::uint32_t uid_gid = 0x02;
constexpr std::uint32_t permissions = 0x04;
constexpr std::uint32_t times = 0x08;
constexpr std::uint32_t extended = 0x80000000u;
}  // namespace attr_flag

// The extension names, as the server announces them in VERSION.
inline constexpr std::string_view kPosixRename = "posix-rename@openssh.com";
inline constexpr std::string_view kFsync = "fsync@openssh.com";
inline constexpr std::string_view kLimits = "limits@openssh.com";
inline constexpr std::string_view kUsersGroupsById = "users-groups-by-id@openssh.com";

// The bytes are not the protocol: the session cannot go on.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- requests (each function returns the whole packet) -------------------------------------

std::string init();
std::string open(std::uint32_t id, std::string_view path, std::uint32_t flags);
std::string close(std::uint32_t id, std::string_view handle);
std::string read(std::uint32_t id, std::string_view handle, std::uint64_t offset, std::uint32_t length);
// Only the fixed part of a WRITE, up to and including the data's length field: the data follows
// it on the wire, so a big write is not copied into a second buffer.
std::string write_header(std::uint32_t id, std::string_view handle, std::uint64_t offset, std::uint32_t length);
std::string stat(std::uint32_t id, std::string_view path);
std::string lstat(std::uint32_t id, std::string_view path);
std::string fstat(std::uint32_t id, std::string_view handle);
std::string setstat(std::uint32_t id, std::string_view path, const core::FileAttributes& attrs);
std::string remove(std::uint32_t id, std::string_view path);
std::string mkdir(std::uint32_t id, std::string_view path);
std::string readlink(std::uint32_t id, std::string_view path);
// OpenSSH's argument order, the reverse of the draft's (PROTOCOL 4.1): target first, then the
// link to make.
std::string symlink(std::uint32_t id, std::string_view target, std::string_view link);
std::string posix_rename(std::uint32_t id, std::string_view from, std::string_view to);
std::string fsync(std::uint32_t id, std::string_view handle);
std::string limits(std::uint32_t id);
std::string users_groups_by_id(std::uint32_t id, const std::vector<std::uint32_t>& uids,
                               const std::vector<std::uint32_t>& gids);

// ---- replies --------------------------------------------------------------------------------

// The size of the first packet in `buffer` (its length field included) once all of it is
// there; nullopt while it is incomplete. Throws ProtocolError for a length over kMaxPacket or
// under the type byte.
std::optional<std::size_t> packet_size(std::string_view buffer);

struct Reply {
  Type type;
  std::uint32_t id = 0;
  std::string_view body;  // the fields after the id; points into the packet
};
// packet: one whole packet, its length field included. Throws ProtocolError.
Reply parse_reply(std::string_view packet);

struct Version {
  std::uint32_t version = 0;
  std::map<std::string, std::string, std::less<>> extensions;  // name -> its version ("1")
  bool has(std::string_view extension, std::string_view version = "1") const;
};
Version parse_version(std::string_view packet);

struct Status {
  core::FileStatus code = core::FileStatus::ok;
  std::string message;  // the server's words, may be empty
};

struct Limits {
  std::uint64_t max_packet = 0;  // 0: no limit announced
  std::uint64_t max_read = 0;
  std::uint64_t max_write = 0;
  std::uint64_t max_handles = 0;
};

struct Name {
  std::string filename;
  std::string longname;
  core::FileAttributes attrs;
};

// Each reads the body of a reply of its type; throws ProtocolError when it is malformed.
Status parse_status(std::string_view body);
std::string parse_handle(std::string_view body);
std::string parse_data(std::string_view body);
core::FileAttributes parse_attrs(std::string_view body);
std::vector<Name> parse_name(std::string_view body);
Limits parse_limits(std::string_view body);
// users-groups-by-id: the user names, then the group names, in the order asked.
std::pair<std::vector<std::string>, std::vector<std::string>> parse_users_groups(std::string_view body);

// ---- status codes ---------------------------------------------------------------------------

// The draft's name for a status, e.g. "SSH_FX_NO_SUCH_FILE", for messages and logs.
std::string_view status_name(core::FileStatus status) noexcept;

// What a refusal the caller cannot hand to a command means (a read failing mid-stream):
// no_such_file -> not_found, permission_denied -> forbidden, op_unsupported -> not_implemented,
// no_connection / connection_lost -> backend_unreachable, the rest -> internal.
core::ErrorKind error_kind(core::FileStatus status) noexcept;

}  // namespace portico::ssh::sftp

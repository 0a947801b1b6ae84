#include "ssh/sftp_protocol.hpp"

namespace portico::ssh::sftp {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}

void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void put_attrs(std::string& out, const core::FileAttributes& a) {
  std::uint32_t flags = 0;
  if (a.size) flags |= attr_flag::size;
  if (a.uid && a.gid) flags |= attr_flag::uid_gid;
  if (a.mode) flags |= attr_flag::permissions;
  if (a.atime && a.mtime) flags |= attr_flag::times;
  put_u32(out, flags);
  if (flags & attr_flag::size) put_u64(out, *a.size);
  if (flags & attr_flag::uid_gid) {
    put_u32(out, *a.uid);
    put_u32(out, *a.gid);
  }
  if (flags & attr_flag::permissions) put_u32(out, *a.mode);
  if (flags & attr_flag::times) {
    put_u32(out, *a.atime);
    put_u32(out, *a.mtime);
  }
}

// A packet under construction: its length is filled in by done().
struct Packet {
  std::string bytes;
  Packet(Type type, std::uint32_t id) {
    bytes.assign(4, '\0');
    bytes += static_cast<char>(type);
    put_u32(bytes, id);
  }
  Packet& u32(std::uint32_t v) { return put_u32(bytes, v), *this; }
  Packet& u64(std::uint64_t v) { return put_u64(bytes, v), *this; }
  Packet& str(std::string_view s) { return put_string(bytes, s), *this; }
  Packet& attrs(const core::FileAttributes& a) { return put_attrs(bytes, a), *this; }
  std::string done(std::size_t trailing = 0) {
    const auto length = static_cast<std::uint32_t>(bytes.size() - 4 + trailing);
    bytes[0] = static_cast<char>(length >> 24);
    bytes[1] = static_cast<char>(length >> 16);
    bytes[2] = static_cast<char>(length >> 8);
    bytes[3] = static_cast<char>(length);
    return std::move(bytes);
  }
};

// Reads fields off the front of a reply's bytes.
class Fields {
 public:
  explicit Fields(std::string_view bytes) : rest_(bytes) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint32_t u32() {
    auto b = take(4);
    return (std::uint32_t(std::uint8_t(b[0])) << 24) | (std::uint32_t(std::uint8_t(b[1])) << 16) |
           (std::uint32_t(std::uint8_t(b[2])) << 8) | std::uint32_t(std::uint8_t(b[3]));
  }
  std::uint64_t u64() {
    std::uint64_t high = u32();
    return (high << 32) | u32();
  }
  std::string_view str() { return take(u32()); }
  core::FileAttributes attrs() {
    core::FileAttributes a;
    const auto flags = u32();
    if (flags & attr_flag::size) a.size = u64();
    if (flags & attr_flag::uid_gid) {
      a.uid = u32();
      a.gid = u32();
    }
    if (flags & attr_flag::permissions) a.mode = u32();
    if (flags & attr_flag::times) {
      a.atime = u32();
      a.mtime = u32();
    }
    if (flags & attr_flag::extended) {
      for (auto n = u32(); n > 0; --n) {
        str();  // type
        str();  // data
      }
    }
    return a;
  }
  bool empty() const noexcept { return rest_.empty(); }

 private:
  std::string_view take(std::size_t n) {
    if (n > rest_.size()) throw ProtocolError("SFTP reply shorter than its fields");
    auto out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  std::string_view rest_;
};

std::uint32_t be32(std::string_view b) {
  return (std::uint32_t(std::uint8_t(b[0])) << 24) | (std::uint32_t(std::uint8_t(b[1])) << 16) |
         (std::uint32_t(std::uint8_t(b[2])) << 8) | std::uint32_t(std::uint8_t(b[3]));
}

std::string on_path(Type type, std::uint32_t id, std::string_view path) { return Packet(type, id).str(path).done(); }

std::string extended(std::uint32_t id, std::string_view name) { return Packet(Type::extended, id).str(name).done(); }

}  // namespace

// ---- requests -------------------------------------------------------------------------------

std::string init() {
  // INIT has no request id: its uint32 is the version.
  return Packet(Type::init, kVersion).done();
}

std::string open(std::uint32_t id, std::string_view path, std::uint32_t flags) {
  // No attributes: the server creates files with 0666 less its umask, as a shell redirection.
  return Packet(Type::open, id).str(path).u32(flags).attrs({}).done();
}

std::string close(std::uint32_t id, std::string_view handle) { return on_path(Type::close, id, handle); }

std::string read(std::uint32_t id, std::string_view handle, std::uint64_t offset, std::uint32_t length) {
  return Packet(Type::read, id).str(handle).u64(offset).u32(length).done();
}

std::string write_header(std::uint32_t id, std::string_view handle, std::uint64_t offset, std::uint32_t length) {
  return Packet(Type::write, id).str(handle).u64(offset).u32(length).done(length);
}

std::string stat(std::uint32_t id, std::string_view path) { return on_path(Type::stat, id, path); }
std::string lstat(std::uint32_t id, std::string_view path) { return on_path(Type::lstat, id, path); }
std::string fstat(std::uint32_t id, std::string_view handle) { return on_path(Type::fstat, id, handle); }

std::string setstat(std::uint32_t id, std::string_view path, const core::FileAttributes& attrs) {
  return Packet(Type::setstat, id).str(path).attrs(attrs).done();
}

std::string remove(std::uint32_t id, std::string_view path) { return on_path(Type::remove, id, path); }

std::string mkdir(std::uint32_t id, std::string_view path) {
  // No permissions attribute: the server's mkdir(2) gets 0777 and the umask applies, as mkdir(1).
  return Packet(Type::mkdir, id).str(path).attrs({}).done();
}

std::string readlink(std::uint32_t id, std::string_view path) { return on_path(Type::readlink, id, path); }

std::string symlink(std::uint32_t id, std::string_view target, std::string_view link) {
  return Packet(Type::symlink, id).str(target).str(link).done();
}

std::string posix_rename(std::uint32_t id, std::string_view from, std::string_view to) {
  return Packet(Type::extended, id).str(kPosixRename).str(from).str(to).done();
}

std::string fsync(std::uint32_t id, std::string_view handle) {
  return Packet(Type::extended, id).str(kFsync).str(handle).done();
}

std::string limits(std::uint32_t id) { return extended(id, kLimits); }

std::string users_groups_by_id(std::uint32_t id, const std::vector<std::uint32_t>& uids,
                               const std::vector<std::uint32_t>& gids) {
  std::string u, g;
  for (auto v : uids) put_u32(u, v);
  for (auto v : gids) put_u32(g, v);
  return Packet(Type::extended, id).str(kUsersGroupsById).str(u).str(g).done();
}

// ---- replies --------------------------------------------------------------------------------

std::optional<std::size_t> packet_size(std::string_view buffer) {
  if (buffer.size() < 4) return std::nullopt;
  const std::uint32_t length = be32(buffer);
  if (length < 1 || length > kMaxPacket)
    throw ProtocolError("SFTP packet length " + std::to_string(length) + " out of range");
  if (buffer.size() - 4 < length) return std::nullopt;
  return 4 + std::size_t(length);
}

Reply parse_reply(std::string_view packet) {
  Fields f(packet);
  const auto length = f.u32();
  if (length != packet.size() - 4) throw ProtocolError("SFTP packet length does not match its bytes");
  Reply r{static_cast<Type>(f.u8()), 0, {}};
  if (r.type == Type::version) throw ProtocolError("SFTP VERSION after the start of the session");
  r.id = f.u32();
  r.body = packet.substr(9);
  return r;
}

bool Version::has(std::string_view extension, std::string_view version) const {
  auto it = extensions.find(extension);
  return it != extensions.end() && it->second == version;
}

Version parse_version(std::string_view packet) {
  Fields f(packet);
  const auto length = f.u32();
  if (length != packet.size() - 4) throw ProtocolError("SFTP packet length does not match its bytes");
  if (static_cast<Type>(f.u8()) != Type::version) throw ProtocolError("the SFTP server did not answer INIT with VERSION");
  Version v;
  v.version = f.u32();
  while (!f.empty()) {
    auto name = f.str();
    auto version = f.str();
    v.extensions.emplace(std::string(name), std::string(version));
  }
  return v;
}

Status parse_status(std::string_view body) {
  Fields f(body);
  Status s;
  s.code = static_cast<core::FileStatus>(f.u32());
  // Version 3 servers add a message and a language tag; an older one may send neither.
  if (!f.empty()) s.message = std::string(f.str());
  return s;
}

std::string parse_handle(std::string_view body) {
  Fields f(body);
  return std::string(f.str());
}

std::string parse_data(std::string_view body) {
  Fields f(body);
  return std::string(f.str());
}

core::FileAttributes parse_attrs(std::string_view body) {
  Fields f(body);
  return f.attrs();
}

std::vector<Name> parse_name(std::string_view body) {
  Fields f(body);
  std::vector<Name> out;
  for (auto n = f.u32(); n > 0; --n) {
    Name name;
    name.filename = std::string(f.str());
    name.longname = std::string(f.str());
    name.attrs = f.attrs();
    out.push_back(std::move(name));
  }
  return out;
}

Limits parse_limits(std::string_view body) {
  Fields f(body);
  Limits l;
  l.max_packet = f.u64();
  l.max_read = f.u64();
  l.max_write = f.u64();
  l.max_handles = f.u64();
  return l;
}

std::pair<std::vector<std::string>, std::vector<std::string>> parse_users_groups(std::string_view body) {
  Fields f(body);
  auto names = [](std::string_view list) {
    Fields in(list);
    std::vector<std::string> out;
    while (!in.empty()) out.emplace_back(in.str());
    return out;
  };
  auto users = names(f.str());
  auto groups = names(f.str());
  return {std::move(users), std::move(groups)};
}

// ---- status codes ---------------------------------------------------------------------------

std::string_view status_name(core::FileStatus status) noexcept {
  switch (status) {
    case core::FileStatus::ok: return "SSH_FX_OK";
    case core::FileStatus::eof: return "SSH_FX_EOF";
    case core::FileStatus::no_such_file: return "SSH_FX_NO_SUCH_FILE";
    case core::FileStatus::permission_denied: return "SSH_FX_PERMISSION_DENIED";
    case core::FileStatus::failure: return "SSH_FX_FAILURE";
    case core::FileStatus::bad_message: return "SSH_FX_BAD_MESSAGE";
    case core::FileStatus::no_connection: return "SSH_FX_NO_CONNECTION";
    case core::FileStatus::connection_lost: return "SSH_FX_CONNECTION_LOST";
    case core::FileStatus::op_unsupported: return "SSH_FX_OP_UNSUPPORTED";
  }
  return "SSH_FX_UNKNOWN";
}

core::ErrorKind error_kind(core::FileStatus status) noexcept {
  switch (status) {
    case core::FileStatus::no_such_file: return core::ErrorKind::not_found;
    case core::FileStatus::permission_denied: return core::ErrorKind::forbidden;
    case core::FileStatus::op_unsupported: return core::ErrorKind::not_implemented;
    case core::FileStatus::no_connection:
    case core::FileStatus::connection_lost: return core::ErrorKind::backend_unreachable;
    default: return core::ErrorKind::internal;
  }
}

}  // namespace portico::ssh::sftp

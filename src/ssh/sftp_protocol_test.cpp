// The SFTP v3 packets on byte vectors: what Portico sends, byte for byte as the draft and
// OpenSSH's PROTOCOL lay them out, and what it reads from replies shaped as sftp-server sends them.

#include "ssh/sftp_protocol.hpp"

#include <gtest/gtest.h>


namespace sftp = portico::ssh::sftp;
using portico::core::FileAttributes;
using portico::core::FileStatus;

namespace {

// Bytes built field by field, for readable expectations.
struct B {
  std::string bytes;
  B& u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>(v >> shift);
    return *this;
  }
  B& u64(std::uint64_t v) { return u32(std::uint32_t(v >> 32)).u32(std::uint32_t(v)); }
  B& str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes.append(s);
    return *this;
  }
  B& u8(int v) {
    bytes += static_cast<char>(v);
    return *this;
  }
  // The packet: its length, then the bytes so far.
  std::string packet() const {
    B out;
    out.u32(static_cast<std::uint32_t>(bytes.size()));
    return out.bytes + bytes;
  }
};

TEST(SftpProtocol, InitAsksForVersionThree) {
  EXPECT_EQ(sftp::init(), std::string("\0\0\0\x05\x01\0\0\0\x03", 9));
}

TEST(SftpProtocol, OpenCarriesThePathTheFlagsAndEmptyAttributes) {
  const std::string path = "/home/a b/it's\n$(id)";
  auto expected = B().u8(3).u32(7).str(path).u32(sftp::open_flag::write | sftp::open_flag::create | sftp::open_flag::exclusive).u32(0).packet();
  EXPECT_EQ(sftp::open(7, path, 0x2a), expected);
}

TEST(SftpProtocol, ReadWriteAndCloseOnAHandle) {
  const std::string handle("\0\x01", 2);
  EXPECT_EQ(sftp::read(9, handle, 0x1'0000'0002ull, 65536), B().u8(5).u32(9).str(handle).u64(0x1'0000'0002ull).u32(65536).packet());
  // The header of a write counts the data that follows it.
  const std::string data = "hello";
  auto header = sftp::write_header(10, handle, 5, static_cast<std::uint32_t>(data.size()));
  EXPECT_EQ(header + data, B().u8(6).u32(10).str(handle).u64(5).str(data).packet());
  EXPECT_EQ(sftp::close(11, handle), B().u8(4).u32(11).str(handle).packet());
  EXPECT_EQ(sftp::fstat(12, handle), B().u8(8).u32(12).str(handle).packet());
}

TEST(SftpProtocol, PathRequests) {
  EXPECT_EQ(sftp::stat(1, "/x"), B().u8(17).u32(1).str("/x").packet());
  EXPECT_EQ(sftp::lstat(2, "/x"), B().u8(7).u32(2).str("/x").packet());
  EXPECT_EQ(sftp::remove(3, "/x"), B().u8(13).u32(3).str("/x").packet());
  EXPECT_EQ(sftp::mkdir(4, "/x"), B().u8(14).u32(4).str("/x").u32(0).packet());
  EXPECT_EQ(sftp::readlink(5, "/x"), B().u8(19).u32(5).str("/x").packet());
}

TEST(SftpProtocol, SymlinkSendsTheTargetFirstAsOpenSshExpects) {
  EXPECT_EQ(sftp::symlink(6, "target", "/home/alice/link"),
            B().u8(20).u32(6).str("target").str("/home/alice/link").packet());
}

TEST(SftpProtocol, SetstatSendsOnlyTheFieldsGiven) {
  FileAttributes mode;
  mode.mode = 0700;
  EXPECT_EQ(sftp::setstat(8, "/x", mode), B().u8(9).u32(8).str("/x").u32(sftp::attr_flag::permissions).u32(0700).packet());
  FileAttributes all;
  all.size = 5;
  all.uid = 1001;
  all.gid = 100;
  all.mode = 0100644;
  all.atime = 10;
  all.mtime = 20;
  EXPECT_EQ(sftp::setstat(8, "/x", all),
            B().u8(9).u32(8).str("/x").u32(0x0f).u64(5).u32(1001).u32(100).u32(0100644).u32(10).u32(20).packet());
}

TEST(SftpProtocol, OpenSshExtensions) {
  EXPECT_EQ(sftp::posix_rename(1, "/d/.tmp", "/d/f"),
            B().u8(200).u32(1).str("posix-rename@openssh.com").str("/d/.tmp").str("/d/f").packet());
  EXPECT_EQ(sftp::fsync(2, "h"), B().u8(200).u32(2).str("fsync@openssh.com").str("h").packet());
  EXPECT_EQ(sftp::limits(3), B().u8(200).u32(3).str("limits@openssh.com").packet());
  EXPECT_EQ(sftp::users_groups_by_id(4, {1001, 0}, {100}),
            B().u8(200).u32(4).str("users-groups-by-id@openssh.com").str(B().u32(1001).u32(0).bytes).str(B().u32(100).bytes).packet());
}

TEST(SftpProtocol, PacketSizeWaitsForTheWholePacket) {
  auto packet = B().u8(101).u32(1).u32(0).str("Success").str("").packet();
  EXPECT_EQ(sftp::packet_size(""), std::nullopt);
  EXPECT_EQ(sftp::packet_size(std::string_view(packet).substr(0, 3)), std::nullopt);
  EXPECT_EQ(sftp::packet_size(std::string_view(packet).substr(0, packet.size() - 1)), std::nullopt);
  EXPECT_EQ(sftp::packet_size(packet), packet.size());
  EXPECT_EQ(sftp::packet_size(packet + "next"), packet.size());
}

TEST(SftpProtocol, PacketSizeRefusesLengthsNoServerSends) {
  EXPECT_THROW(sftp::packet_size(B().u32(0).bytes), sftp::ProtocolError);
  EXPECT_THROW(sftp::packet_size(B().u32(sftp::kMaxPacket + 1).bytes), sftp::ProtocolError);
  EXPECT_EQ(sftp::packet_size(B().u32(sftp::kMaxPacket).bytes), std::nullopt);
}

TEST(SftpProtocol, VersionAndItsExtensions) {
  auto packet = B().u8(2).u32(3).str("posix-rename@openssh.com").str("1").str("statvfs@openssh.com").str("2")
                    .str("fsync@openssh.com").str("1").packet();
  auto v = sftp::parse_version(packet);
  EXPECT_EQ(v.version, 3u);
  EXPECT_TRUE(v.has(sftp::kPosixRename));
  EXPECT_TRUE(v.has(sftp::kFsync));
  EXPECT_FALSE(v.has(sftp::kLimits));
  EXPECT_FALSE(v.has("statvfs@openssh.com"));  // version 2, not 1
  EXPECT_TRUE(v.has("statvfs@openssh.com", "2"));
  EXPECT_THROW(sftp::parse_version(B().u8(101).u32(3).packet()), sftp::ProtocolError);
}

TEST(SftpProtocol, StatusWithAndWithoutItsMessage) {
  const auto packet = B().u8(101).u32(42).u32(2).str("No such file").str("").packet();
  auto r = sftp::parse_reply(packet);  // the body points into the packet
  EXPECT_EQ(r.type, sftp::Type::status);
  EXPECT_EQ(r.id, 42u);
  auto s = sftp::parse_status(r.body);
  EXPECT_EQ(s.code, FileStatus::no_such_file);
  EXPECT_EQ(s.message, "No such file");
  EXPECT_EQ(sftp::parse_status(B().u32(4).bytes).code, FileStatus::failure);
}

TEST(SftpProtocol, HandleAndDataKeepEveryByte) {
  const std::string bytes("\0\xff\n'", 4);
  const auto handle = B().u8(102).u32(1).str(bytes).packet();
  auto h = sftp::parse_reply(handle);
  EXPECT_EQ(h.type, sftp::Type::handle);
  EXPECT_EQ(sftp::parse_handle(h.body), bytes);
  const auto data = B().u8(103).u32(2).str(bytes).packet();
  auto d = sftp::parse_reply(data);
  EXPECT_EQ(d.type, sftp::Type::data);
  EXPECT_EQ(sftp::parse_data(d.body), bytes);
}

TEST(SftpProtocol, AttributesAsSftpServerSendsThem) {
  // sftp-server sends size, uid/gid, permissions and times.
  auto a = sftp::parse_attrs(B().u32(0x0f).u64(1ull << 40).u32(1001).u32(100).u32(0120777).u32(1700000000).u32(1700000001).bytes);
  EXPECT_EQ(a.size, 1ull << 40);
  EXPECT_EQ(a.uid, 1001u);
  EXPECT_EQ(a.gid, 100u);
  EXPECT_EQ(a.mode, 0120777u);
  EXPECT_TRUE(a.is_symlink());
  EXPECT_FALSE(a.is_regular());
  EXPECT_EQ(a.atime, 1700000000u);
  EXPECT_EQ(a.mtime, 1700000001u);
  // Only some fields, and extended pairs skipped.
  auto b = sftp::parse_attrs(B().u32(0x80000004u).u32(040755).u32(1).str("type").str("data").bytes);
  EXPECT_FALSE(b.size);
  EXPECT_FALSE(b.uid);
  EXPECT_TRUE(b.is_directory());
  EXPECT_THROW(sftp::parse_attrs(B().u32(0x01).u32(0).bytes), sftp::ProtocolError);  // a size of 4 bytes
}

TEST(SftpProtocol, NameOfReadlink) {
  auto names = sftp::parse_name(B().u32(1).str("../target it's").str("").u32(0).bytes);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].filename, "../target it's");
}

TEST(SftpProtocol, LimitsAndNames) {
  auto l = sftp::parse_limits(B().u64(262144).u64(261120).u64(261120).u64(0).bytes);
  EXPECT_EQ(l.max_packet, 262144u);
  EXPECT_EQ(l.max_read, 261120u);
  EXPECT_EQ(l.max_write, 261120u);
  EXPECT_EQ(l.max_handles, 0u);
  auto [users, groups] = sftp::parse_users_groups(B().str(B().str("alice").str("").bytes).str(B().str("hpcusers").bytes).bytes);
  EXPECT_EQ(users, (std::vector<std::string>{"alice", ""}));
  EXPECT_EQ(groups, (std::vector<std::string>{"hpcusers"}));
}

TEST(SftpProtocol, MalformedRepliesAreProtocolErrors) {
  auto packet = B().u8(101).u32(1).u32(0).packet();
  EXPECT_THROW(sftp::parse_reply(packet + "x"), sftp::ProtocolError);  // length does not match
  EXPECT_THROW(sftp::parse_reply(B().u8(2).u32(3).packet()), sftp::ProtocolError);  // a second VERSION
  EXPECT_THROW(sftp::parse_reply(B().u8(101).packet()), sftp::ProtocolError);  // no id
  EXPECT_THROW(sftp::parse_status(B().u32(2).u32(10).bytes + "short"), sftp::ProtocolError);
  EXPECT_THROW(sftp::parse_name(B().u32(2).str("one").str("").u32(0).bytes), sftp::ProtocolError);
}

TEST(SftpProtocol, StatusCodesMapToFailureKinds) {
  using portico::core::ErrorKind;
  EXPECT_EQ(sftp::error_kind(FileStatus::no_such_file), ErrorKind::not_found);
  EXPECT_EQ(sftp::error_kind(FileStatus::permission_denied), ErrorKind::forbidden);
  EXPECT_EQ(sftp::error_kind(FileStatus::op_unsupported), ErrorKind::not_implemented);
  EXPECT_EQ(sftp::error_kind(FileStatus::connection_lost), ErrorKind::backend_unreachable);
  EXPECT_EQ(sftp::error_kind(FileStatus::failure), ErrorKind::internal);
  EXPECT_EQ(sftp::status_name(FileStatus::permission_denied), "SSH_FX_PERMISSION_DENIED");
  EXPECT_EQ(sftp::status_name(static_cast<FileStatus>(99)), "SSH_FX_UNKNOWN");
}

}  // namespace

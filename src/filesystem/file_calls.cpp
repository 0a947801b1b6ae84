#include "filesystem/file_calls.hpp"

#include <memory>

#include "filesystem/ls_entry.hpp"
#include "filesystem/time_zone.hpp"

namespace portico::filesystem::file_calls {

using core::FileAttributes;
using core::RemoteFile;
using core::RemoteFiles;

namespace {

// Reads [offset, offset + length) of an open file, or up to its end. The file is closed when
// dropped: a read-only file has nothing to report at its close, so no round trip waits for it.
Task<std::string> read_all(RemoteFile& file, std::uint64_t offset, std::uint64_t length) {
  file.read_range(offset, length);
  std::string out;
  for (;;) {
    auto piece = co_await file.read();
    if (piece.empty()) break;
    out += piece;
  }
  co_return out;
}

// The file's attributes (following links, as the tools do) when it is a regular file, which
// alone may be opened: opening a FIFO would hold the session until a writer comes.
Task<std::optional<FileAttributes>> regular(RemoteFiles& files, const std::string& path) {
  auto attrs = co_await files.stat(path, true);
  if (!attrs.is_regular() || !attrs.size) co_return std::nullopt;
  co_return attrs;
}

// Makes a change; false when the server refused it, which changed nothing.
Task<bool> accepted(Task<void> call) {
  bool ok = false;
  try {
    co_await std::move(call);
    ok = true;
  } catch (const core::FileError&) {
    // The command says why, in its own words.
  }
  co_return ok;
}

}  // namespace

Task<std::optional<std::string>> view(RemoteFiles& files, std::string path, ViewRange range) {
  std::optional<std::string> out;
  try {
    auto attrs = co_await regular(files, path);
    if (attrs) {
      auto file = co_await files.open(path, RemoteFiles::Open::read);
      const auto offset = static_cast<std::uint64_t>(range.offset);
      const auto size = static_cast<std::uint64_t>(range.size);
      out = co_await read_all(*file, offset, size);
    }
  } catch (const core::FileError&) {
    out.reset();  // the command says why
  }
  co_return out;
}

Task<std::optional<FilePart>> head_tail(RemoteFiles& files, std::string path, HeadTailRequest request,
                                        std::int64_t max_content) {
  std::optional<FilePart> part;
  bool too_large = false;
  try {
    auto attrs = co_await regular(files, path);
    if (attrs) {
      // Opened before anything is decided: a file the user may not read is the command's 403,
      // whatever its size.
      auto file = co_await files.open(path, RemoteFiles::Open::read);
      const auto size = static_cast<std::int64_t>(*attrs->size);
      auto range = byte_range(size, request);
      if (range.end - range.start > max_content) {
        too_large = true;
      } else {
        const auto start = static_cast<std::uint64_t>(range.start);
        const auto length = static_cast<std::uint64_t>(range.end - range.start);
        auto content = co_await read_all(*file, start, length);
        // As the command's answer: the file may have changed since its size was read.
        const auto got = static_cast<std::int64_t>(content.size());
        FilePart p;
        p.content = std::move(content);
        p.start = request.head ? 0 : std::max(size, got) - got;
        p.end = request.head ? got : std::max(size, got);
        part = std::move(p);
      }
    }
  } catch (const core::FileError&) {
    part.reset();
  }
  if (too_large) throw part_too_large(max_content);
  co_return part;
}

Task<bool> rm(RemoteFiles& files, std::string path) {
  auto call = files.remove(std::move(path));
  const bool removed = co_await accepted(std::move(call));
  co_return removed;
}

Task<bool> mkdir(RemoteFiles& files, std::string path) {
  auto call = files.make_directory(std::move(path));
  const bool made = co_await accepted(std::move(call));
  co_return made;
}

Task<bool> symlink(RemoteFiles& files, std::string target, std::string link) {
  auto call = files.make_symlink(std::move(target), std::move(link));
  const bool made = co_await accepted(std::move(call));
  co_return made;
}

Task<bool> chmod(RemoteFiles& files, std::string path, std::uint32_t mode) {
  bool changed = false;
  try {
    auto attrs = co_await files.stat(path, true);
    if (attrs.mode) {
      if (attrs.is_directory()) mode |= *attrs.mode & 06000u;
      co_await files.set_mode(path, mode);
      changed = true;
    }
  } catch (const core::FileError&) {
    // A dangling link, a file of someone else: chmod's words.
  }
  co_return changed;
}

Task<std::optional<LsEntry>> describe(RemoteFiles& files, std::string path) {
  std::optional<LsEntry> entry;
  try {
    auto attrs = co_await files.stat(path, false);
    if (attrs.uid && attrs.gid) {
      std::optional<std::string> target;
      if (attrs.is_symlink()) target = co_await files.read_link(path);
      auto user = co_await files.user_name(*attrs.uid);
      auto group = co_await files.group_name(*attrs.gid);
      auto zone_data = co_await files.local_time_zone();
      auto zone = TimeZone::from_tzif(zone_data);
      if (zone) entry = ls_entry(path, attrs, target, user, group, *zone);
    }
  } catch (const core::FileError&) {
    // Gone already, or a server that cannot name owners: ls says.
  }
  co_return entry;
}

void Record::finish(int status) {
  if (finished_) return;
  finished_ = true;
  runner_.record_call(what_, status,
                      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_));
}

}  // namespace portico::filesystem::file_calls

#include "filesystem/file_calls.hpp"

#include <memory>

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
  bool removed = false;
  try {
    co_await files.remove(path);
    removed = true;
  } catch (const core::FileError&) {
    // A directory (rm -r's), or a refusal whose words are rm's.
  }
  co_return removed;
}

void Record::finish(int status) {
  if (finished_) return;
  finished_ = true;
  runner_.record_call(what_, status,
                      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_));
}

}  // namespace portico::filesystem::file_calls

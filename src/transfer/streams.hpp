#pragma once
// Streaming a file between an HTTP body and the cluster as the user, shared by the APIs: the
// source of a download, and the upload of a multipart body's file part (written to a temporary
// file beside the target, fsynced, then renamed over it: the target is never partial, and an
// interrupted upload leaves nothing behind). Never holds the file in memory: each side waits
// for the other.
//
// Both go over the user's file calls (core::RemoteFiles, SFTP) when the runner has them, and
// by the remote scripts of filesystem/stream_commands.cpp otherwise, with the same answers:
// whatever the file calls cannot decide exactly (a refusal, a path that is not a regular file
// or not a directory) is left to the script before any byte moves.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/cluster.hpp"
#include "config/config.hpp"
#include "http/types.hpp"

namespace portico::transfer {

// The file of a download, open for reading as the user. Every refusal (404, 403, 400 for what is
// not a regular file, timeout) comes from open_download(), before the reply's status line.
// Thread-safety: one caller at a time.
class DownloadSource {
 public:
  virtual ~DownloadSource() = default;

  // The file's size when it was opened.
  virtual std::uint64_t size() const = 0;
  // The bytes read() returns: [first, first + length) of the file. Called once, before read().
  virtual boost::asio::awaitable<void> select(std::uint64_t first, std::uint64_t length) = 0;
  // The next bytes, valid until the next call; empty at the end of the file. A file that grew
  // since it was opened may give more than selected: the caller stops at its length.
  virtual boost::asio::awaitable<std::string_view> read() = 0;
  // Ends the transfer (idempotent): what is not read is not wanted.
  virtual void close() = 0;
};

// Opens `path` (returned by confine()) for a download; ranged: select() will be given a range
// rather than the whole file. Throws core::Failure when the file cannot be downloaded.
boost::asio::awaitable<std::unique_ptr<DownloadSource>> open_download(cluster::UserRunner& runner,
                                                                      const config::Ssh& ssh,
                                                                      std::string path, bool ranged);

// Uploads the part named "file" of the multipart body (`content_type` gives its boundary) into
// the directory `dir` (returned by confine()), under the part's filename; returns the target's
// path. At most `limit` bytes of file. Throws core::Failure: validation (no body, not multipart,
// no file part or two, a bad filename), too_large, or what the remote tools' errors mean.
// `request_id`: for the log line of a temporary file that could not be removed.
boost::asio::awaitable<std::string> upload(cluster::UserRunner& runner, const config::Ssh& ssh, http::BodyReader* body,
                                           std::string_view content_type, const std::string& dir, std::uint64_t limit,
                                           std::string request_id);

}  // namespace portico::transfer

#pragma once
// The file operations every API serves, one implementation each: the API layers read their
// request shape, confine and validate its values (paths.hpp, validate.hpp), call one of these and
// write their reply shape. Each runs as the runner's user, an argv (no shell) under LC_ALL=C
// (errors.cpp matches English messages) with "--" before path operands, and throws the
// core::Failure its outcome means (errors.hpp: 404, 403, 400, ...).
// REQUIRES, for every path argument: returned by confine().

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/command.hpp"
#include "filesystem/archive.hpp"
#include "filesystem/head_tail.hpp"
#include "filesystem/ls_parse.hpp"
#include "filesystem/stat_parse.hpp"
#include "filesystem/validate.hpp"

namespace portico::filesystem {

template <class T>
using Task = boost::asio::awaitable<T>;

// The most `view` returns at once: FirecREST's client switches to the transfer API at 1 MiB.
constexpr std::int64_t kMaxViewBytes = 1024 * 1024;

Task<std::vector<LsEntry>> ls(core::CommandRunner& runner, const std::string& path, const LsOptions& options);
Task<StatResult> stat(core::CommandRunner& runner, const std::string& path, bool dereference);
// The SHA-256 of the file's content, 64 lowercase hex digits.
Task<std::string> checksum(core::CommandRunner& runner, const std::string& path);
// At most max_content bytes of the file's head or tail (the reply's cap, never the file's size).
Task<FilePart> head_tail(core::CommandRunner& runner, const std::string& path, const HeadTailRequest& request,
                         std::int64_t max_content);
// The raw bytes [range.offset, range.offset + range.size) of the file.
Task<std::string> view(core::CommandRunner& runner, const std::string& path, const ViewRange& range);
// file(1)'s description of the file's type, without the trailing newline.
Task<std::string> file_type(core::CommandRunner& runner, const std::string& path);

// These return the ls entry of what they made or changed (ls -ld in the same remote command).
Task<LsEntry> mkdir(core::CommandRunner& runner, const std::string& path, bool parents);
Task<LsEntry> symlink(core::CommandRunner& runner, const std::string& target, const std::string& link);
// mode: returned by validate_chmod_mode().
Task<LsEntry> chmod(core::CommandRunner& runner, const std::string& path, const std::string& mode);
// spec: returned by chown_spec().
Task<LsEntry> chown(core::CommandRunner& runner, const std::string& path, const std::string& spec);

// cp -R (as the transfer job's copy does, attributes preserved); dereference: follow symbolic
// links in the source rather than copy them as links.
// exact_target: `target` is the destination itself, never a directory to copy or move into
// (cp/mv -T), so that a transfer job can take over an interrupted attempt (job_scripts.hpp).
Task<void> copy(core::CommandRunner& runner, const std::string& source, const std::string& target, bool dereference,
                bool exact_target = false);
Task<void> move(core::CommandRunner& runner, const std::string& source, const std::string& target,
                bool exact_target = false);
// REQUIRES: path is not a file system's root (the API refuses that first).
Task<void> rm(core::CommandRunner& runner, const std::string& path);
// Throws core::Failure(too_large) when a pattern matches more names than a command's output cap.
Task<void> compress(core::CommandRunner& runner, CompressCommands commands);
Task<void> extract(core::CommandRunner& runner, std::vector<std::string> tar);

}  // namespace portico::filesystem

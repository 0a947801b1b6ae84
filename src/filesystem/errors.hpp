#pragma once
// Turning a file-system command's outcome into its output, or into the core::Failure that says
// why there is none. Matches GNU coreutils' English messages, so commands run under LC_ALL=C
// (ls_command() and stat_command() do; other builders must too).
//
// Thread safety: pure functions of their arguments; call from any thread.

#include "core/command.hpp"
#include "core/error.hpp"

#include <string>
#include <string_view>

namespace portico::filesystem {

// The Failure for a command that did not succeed (result.ok() is false):
//  - timed_out, or exit status 124 (`timeout` fired)             -> timeout
//  - killed by a signal                                           -> internal
//  - the first stderr line that says one of
//      "No such file or directory"                                -> not_found
//      "Permission denied", "Operation not permitted"             -> forbidden
//      "File exists"                                              -> conflict
//      "Not a directory", "Is a directory", "Directory not empty",
//      "invalid user", "invalid group", "invalid mode"            -> bad_request
//    with that line as the message;
//  - otherwise                                                    -> internal, with the first
//    non-empty stderr line (or the exit status) as the message.
// A message is one line, control characters replaced, at most 200 characters: never the whole
// stderr, which can be long and repeat for every file of a recursive call. The detail (log only)
// adds `what` and the exit status. what: the command as a reader knows it, e.g. "ls".
core::Failure command_failure(const core::CommandResult& result, std::string_view what);

// A line of a tool's stderr as a message for the client and the log: control characters replaced
// by spaces, at most 200 characters ("..." when cut). The line names the user's files, so it may
// hold anything a file name can (an escape sequence, a carriage return).
std::string message_line(std::string_view line);

// Returns result.out when the command succeeded and its stdout was not cut at the output cap.
// Throws command_failure() when it failed, and core::Failure(too_large) when stdout was cut
// (a listing or a file read that ends early would be silently wrong).
const std::string& successful_output(const core::CommandResult& result, std::string_view what);

}  // namespace portico::filesystem

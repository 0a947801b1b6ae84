#pragma once
// Turning a command's outcome into text a parser can trust, or into the Failure that says why
// there is none. Shared by everything in this folder that runs a command.

#include "core/command.hpp"

#include <string>
#include <string_view>

namespace portico::scheduler {

// A short, single-line, printable excerpt of text for an error message: at most max_chars
// characters, control characters replaced by spaces, "..." when cut.
std::string excerpt(std::string_view text, std::size_t max_chars = 80);

// Returns the command's stdout when it ran to a normal end. Otherwise throws core::Failure:
// timeout when it ran out of time, too_large when the output was cut at the configured cap
// (a parse of half a node list would be silently wrong), backend_unreachable when the tool
// says it cannot reach slurmctld or slurmdbd, internal for any other non-zero exit.
// what: the command as a reader of the error knows it, e.g. "scontrol show node".
const std::string& successful_output(const core::CommandResult& result, std::string_view what);

}  // namespace portico::scheduler

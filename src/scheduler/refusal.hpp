#pragma once
// What a scheduler's refusal means to a client. sbatch, scancel, srun and scontrol say no on
// stderr with a non-zero status; the client gets a 4xx carrying the scheduler's own words
// (invalid partition → 400, account or permission → 403, unknown job → 404) instead of a 500.

#include <optional>
#include <string_view>

#include "core/command.hpp"
#include "core/error.hpp"

namespace portico::scheduler {

// The Failure for a refused Slurm command, or nullopt when the stderr is not a refusal this
// function knows (the caller then falls back to successful_output's classification).
std::optional<core::Failure> slurm_refusal(std::string_view stderr_text);

// Returns stdout when the command succeeded; throws slurm_refusal() or else what
// successful_output() throws.
const std::string& accepted_output(const core::CommandResult& result, std::string_view what);

}  // namespace portico::scheduler

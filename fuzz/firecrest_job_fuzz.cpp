// The body of FirecREST's POST /compute/{system}/jobs (api/firecrest/compute_body.hpp) and the
// sbatch command made of it (scheduler/submission.hpp).
// Input: the JSON body.
#include <cstdint>
#include <string_view>

#include "api/firecrest/compute_body.hpp"
#include "body_checks.hpp"
#include "filesystem/paths.hpp"
#include "scheduler/submission.hpp"

namespace sch = portico::scheduler;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto confine = [](std::string_view path, std::string_view field) {
    return portico::filesystem::confine(path, portico::fuzz::file_systems(), "body", field);
  };
  constexpr std::size_t kMaxScript = 4096;
  sch::JobSubmission job;
  if (!portico::fuzz::refused_or_ran([&] { job = portico::api::firecrest::parse_job_submission(body, confine, kMaxScript); }))
    return 0;
  portico::fuzz::check_confined(job.working_directory);
  FUZZ_CHECK(job.script.has_value() != job.script_path.has_value());
  if (job.script_path) portico::fuzz::check_confined(*job.script_path);
  if (job.script) FUZZ_CHECK(job.script->size() <= kMaxScript);
  for (const auto& [name, value] : job.env) FUZZ_CHECK(sch::valid_env_name(name));

  // What reaches the cluster: the argv word for word, the script on stdin.
  const auto command = sch::sbatch_command(job, "/usr/bin/sbatch");
  portico::fuzz::check_command_line(command.argv);
  FUZZ_CHECK(command.stdin_data == job.script.value_or(""));
  return 0;
}

// The JobSpec of the IRI API's launchJob and updateJob (api/iri/job_spec.hpp), the submission
// and batch script the PSI/J core makes of it (scheduler/psij.hpp), and the commands that submit
// or change it on Slurm and PBS (scheduler/submission.hpp, pbs_cli.hpp).
// Input: one byte choosing the API version and the cluster's scheduler, then the JSON body.
#include <boost/json.hpp>

#include <cstdint>
#include <string_view>

#include "api/iri/job_spec.hpp"
#include "body_checks.hpp"
#include "filesystem/paths.hpp"
#include "scheduler/pbs_cli.hpp"
#include "scheduler/psij.hpp"
#include "scheduler/submission.hpp"

namespace iri = portico::api::iri;
namespace psij = portico::scheduler::psij;
namespace sch = portico::scheduler;

namespace {

psij::Site site(bool pbs) {
  psij::Site s;
  s.scheduler = pbs ? "pbs" : "slurm";
  s.custom_attributes = {"slurm.constraint", "slurm.qos", "pbs.place"};
  s.container_command = {"apptainer", "exec", "{mounts}", "{image}"};
  s.default_directory = "/home/alice";
  s.confine = [](std::string_view path, std::string_view field) {
    return portico::filesystem::confine(path, portico::fuzz::file_systems(), "body", field);
  };
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto version = (data[0] & 1) ? iri::Version::v2 : iri::Version::v1;
  const bool pbs = data[0] & 2;
  boost::system::error_code ec;
  const auto body = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), ec);
  if (ec) return 0;

  psij::JobSpec spec;
  if (!portico::fuzz::refused_or_ran(portico::core::ErrorKind::validation,
                                     [&] { spec = iri::read_job_spec(body, version); }))
    return 0;

  // updateJob's change, as scontrol and qalter words.
  if (const auto change = psij::update_of(spec); !change.empty()) {
    portico::fuzz::check_command_line(sch::scontrol_update_command("123", change).argv);
    portico::fuzz::refused_or_ran(portico::core::ErrorKind::not_implemented,
                                  [&] { portico::fuzz::check_command_line(sch::qalter_command("123", change).argv); });
  }

  sch::JobSubmission job;
  if (!portico::fuzz::refused_or_ran([&] { job = psij::to_submission(spec, site(pbs)); })) return 0;
  portico::fuzz::check_confined(job.working_directory);
  FUZZ_CHECK(job.script.has_value() && !job.script_path);
  for (const auto& [name, value] : job.env) FUZZ_CHECK(sch::valid_env_name(name));
  for (const auto& [name, value] : job.options) FUZZ_CHECK(sch::valid_option_name(name));

  portico::core::Command command;
  if (!pbs) {
    command = sch::sbatch_command(job, "/usr/bin/sbatch");
  } else {
    // What PBS cannot do is refused: bad_request, or validation naming the field.
    try {
      command = sch::pbs_submit_command(job, "/opt/pbs/bin/qsub");
    } catch (const portico::core::Failure& f) {
      FUZZ_CHECK(f.kind() == portico::core::ErrorKind::bad_request || f.kind() == portico::core::ErrorKind::validation);
      return 0;
    }
  }
  portico::fuzz::check_command_line(command.argv);
  FUZZ_CHECK(command.stdin_data == *job.script);
  return 0;
}

#include "api/firecrest/compute_body.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

using namespace portico;
using api::firecrest::parse_job_submission;

namespace {

std::string confine(std::string_view path, std::string_view field) {
  if (path.substr(0, 6) != "/home/") throw core::validation_error("body", std::string(field), "outside the file systems");
  return std::string(path);
}

core::Failure refusal(const std::string& body) {
  try {
    parse_job_submission(body, confine, 1024);
  } catch (const core::Failure& f) {
    return f;
  }
  ADD_FAILURE() << "accepted: " << body;
  return core::Failure(core::ErrorKind::internal, "");
}

}  // namespace

TEST(ComputeBody, AcceptsCamelAndSnakeCase) {
  auto s = parse_job_submission(
      R"({"job": {"name": "n", "working_directory": "/home/alice", "scriptPath": "/home/alice/a.sh",
                  "standard_output": "o.txt", "standardError": "e.txt", "env": {"A": "1, 2"}}})",
      confine, 1024);
  EXPECT_EQ(s.working_directory, "/home/alice");
  EXPECT_EQ(*s.script_path, "/home/alice/a.sh");
  EXPECT_EQ(*s.standard_output, "o.txt");
  EXPECT_EQ(*s.standard_error, "e.txt");
  EXPECT_EQ(s.env.at("A"), "1, 2");
  EXPECT_FALSE(s.script);
}

TEST(ComputeBody, RefusesBadShapesWithTheFieldNamed) {
  auto f = refusal(R"({"job": {"workingDirectory": "/home/a", "script": "x", "env": ["A=1"]}})");
  EXPECT_EQ(f.kind(), core::ErrorKind::validation);
  EXPECT_EQ(f.fields().at(0).name, "job.env");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/home/a", "script": "x", "env": null}})").fields().at(0).name,
            "job.env");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/home/a", "script": "x", "env": {"A B": "1"}}})").fields().at(0).name,
            "job.env");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/etc", "script": "x"}})").fields().at(0).name,
            "job.workingDirectory");
  EXPECT_EQ(refusal(R"({"job": {"script": "x"}})").fields().at(0).name, "job.workingDirectory");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/home/a"}})").fields().at(0).name, "job.script");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/home/a", "script": "x", "scriptPath": "/home/a/x"}})")
                .fields().at(0).name, "job.script");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/home/a", "script": 7}})").fields().at(0).name, "job.script");
  EXPECT_EQ(refusal(R"({"nojob": {}})").fields().at(0).name, "job");
  EXPECT_EQ(refusal("not json").fields().at(0).name, "body");
  EXPECT_EQ(refusal(R"({"job": {"workingDirectory": "/home/a", "script": ")" + std::string(2000, 'x') + R"("}})").kind(),
            core::ErrorKind::too_large);
}

#pragma once
// Test helpers: the text of a golden file in testdata/ (see testdata/README.md), and the
// message of the Failure(internal) a parser throws on output it cannot read.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"

namespace portico::scheduler::testing {

inline std::string golden(const std::string& name) {
  std::ifstream in(std::string(PORTICO_SOURCE_DIR) + "/src/scheduler/testdata/" + name, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "missing golden file testdata/" << name;
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs f, which must throw Failure(internal); returns its message.
template <class F>
std::string internal_failure(F&& f) {
  try {
    f();
  } catch (const core::Failure& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::internal);
    return e.what();
  }
  ADD_FAILURE() << "no Failure thrown";
  return {};
}

}  // namespace portico::scheduler::testing

#pragma once
// Test helper: the text of a golden file in testdata/ (see testdata/README.md).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace portico::scheduler::testing

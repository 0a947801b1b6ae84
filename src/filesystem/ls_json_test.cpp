#include "filesystem/ls_json.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/utf8.hpp"

namespace portico::filesystem {
namespace {

namespace json = boost::json;

TEST(LsJson, IsWhatSerializingTheTreeGives) {
  LsEntry e;
  e.name = "we\"ird\n\xFF name";
  e.directory = "/home/alice/dir";
  e.type = 'l';
  e.link_target = "/tmp/t\\x";
  e.user = "alice";
  e.group = "hpcusers";
  e.permissions = "rwxrwxrwx";
  e.last_modified = "2026-12-01T10:00:00";
  e.size = "42";
  std::string out;
  append_entry_json(out, e, {"link_target", "last_modified"});
  json::object tree{{"name", core::valid_utf8("/home/alice/dir/" + e.name)},
                    {"type", "l"},
                    {"link_target", *e.link_target},
                    {"user", "alice"},
                    {"group", "hpcusers"},
                    {"permissions", "rwxrwxrwx"},
                    {"last_modified", e.last_modified},
                    {"size", "42"}};
  EXPECT_EQ(out, json::serialize(tree));
  e.link_target.reset();
  e.directory.clear();
  out.clear();
  append_entry_json(out, e, {"linkTarget", "lastModified"});
  auto parsed = json::parse(out).as_object();
  EXPECT_TRUE(parsed.at("linkTarget").is_null());
  EXPECT_EQ(parsed.at("name").as_string(), core::valid_utf8(e.name));
  EXPECT_EQ(parsed.at("lastModified").as_string(), e.last_modified);
}

}  // namespace
}  // namespace portico::filesystem

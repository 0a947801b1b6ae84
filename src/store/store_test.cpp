#include "store/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/error.hpp"

namespace portico::store {
namespace {

PendingUpload upload(std::string id, std::int64_t created) {
  PendingUpload u;
  u.id = std::move(id);
  u.cluster = "hpc";
  u.user = "alice";
  u.job_id = "42";
  u.object_key = "alice/" + u.id + "/data 'x'.bin";
  u.upload_id = "upload-" + u.id;
  u.size = 3ull * 1024 * 1024 * 1024;
  u.created = created;
  u.deadline = created + 3600;
  u.error_log = "/home/alice/.portico-transfer-" + u.id + ".err";
  return u;
}

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/portico-store-XXXXXX";
    path_ = mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(SqliteStore, KeepsPendingUploadsAcrossReopening) {
  TempDir dir;
  auto path = dir.file("portico.db");
  {
    auto store = open_sqlite(path);
    store->add_pending_upload(upload("b", 20));
    store->add_pending_upload(upload("a", 10));
    store->add_pending_upload(upload("c", 30));
    store->remove_pending_upload("c");
    store->remove_pending_upload("unknown");
  }
  auto store = open_sqlite(path);
  auto all = store->pending_uploads();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], upload("a", 10));  // oldest first, every field as written
  EXPECT_EQ(all[1], upload("b", 20));
}

TEST(SqliteStore, ReplacesAnUploadWithTheSameId) {
  auto store = open_sqlite(":memory:");
  auto u = upload("a", 10);
  store->add_pending_upload(u);
  u.job_id = "43";
  store->add_pending_upload(u);
  auto all = store->pending_uploads();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].job_id, "43");
}

TEST(SqliteStore, RefusesAFileThatIsNotADatabaseNamingIt) {
  TempDir dir;
  auto path = dir.file("not-a-db");
  std::ofstream(path) << "this is not an SQLite database, but long enough to have a header of its own......";
  try {
    open_sqlite(path);
    FAIL() << "opened a file that is not a database";
  } catch (const core::Failure& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, RefusesADirectoryThatDoesNotExist) {
  EXPECT_THROW(open_sqlite("/nonexistent-dir-of-portico/portico.db"), core::Failure);
}

}  // namespace
}  // namespace portico::store

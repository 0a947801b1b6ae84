#include "store/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <sqlite3.h>

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

IncidentRecord incident(std::string id, std::int64_t start) {
  IncidentRecord i;
  i.id = std::move(id);
  i.name = "hpc scheduler down";
  i.description = "slurmctld does not answer";
  i.status = "down";
  i.type = "unplanned";
  i.resolution = "unresolved";
  i.start = start;
  i.last_modified = start;
  i.resource_ids = {"r2", "r1"};
  return i;
}

EventRecord event(std::string id, std::int64_t at, std::string incident_id = "") {
  EventRecord e;
  e.id = std::move(id);
  e.name = "hpc scheduler is down";
  e.description = "ping failed";
  e.status = "down";
  e.resource_id = "r1";
  e.incident_id = std::move(incident_id);
  e.occurred_at = at;
  e.last_modified = at;
  return e;
}

TEST(SqliteStore, KeepsIncidentsAndEventsAcrossReopening) {
  TempDir dir;
  auto path = dir.file("portico.db");
  std::int64_t first_revision = 0;
  {
    auto store = open_sqlite(path);
    first_revision = store->revision();
    store->put_incident(incident("b", 2000));
    auto a = incident("a", 1000);
    store->put_incident(a);
    a.resolution = "completed";
    a.end = 5000;
    a.resource_ids = {"r1"};
    store->put_incident(a);  // replaced, resources too
    store->add_event(event("e2", 300, "a"));
    store->add_event(event("e1", 100));
    EXPECT_THROW(store->add_event(event("e1", 100)), core::Failure);  // events never change
    EXPECT_GT(store->revision(), first_revision);
  }
  auto store = open_sqlite(path);
  auto incidents = store->incidents();
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_EQ(incidents[0].id, "a");
  EXPECT_EQ(incidents[0].end, 5000);
  EXPECT_EQ(incidents[0].resolution, "completed");
  EXPECT_EQ(incidents[0].resource_ids, std::vector<std::string>{"r1"});
  EXPECT_EQ(incidents[1], incident("b", 2000));  // every field, no end, resources in order
  auto events = store->events(0);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], event("e1", 100));
  EXPECT_EQ(events[1], event("e2", 300, "a"));
  EXPECT_EQ(store->events(200).size(), 1u);
  EXPECT_EQ(store->remove_events_before(200), 1u);
  EXPECT_EQ(store->events(0).size(), 1u);
}

TEST(SqliteStore, RevisionSeesWritesOfAnotherConnection) {
  TempDir dir;
  auto path = dir.file("portico.db");
  auto gateway = open_sqlite(path);
  auto command = open_sqlite(path);  // the `portico incident` subcommand
  auto before = gateway->revision();
  command->put_incident(incident("a", 1000));
  EXPECT_NE(gateway->revision(), before);
  EXPECT_EQ(gateway->incidents().size(), 1u);
}

TEST(SqliteStore, SettingsAreKept) {
  auto store = open_sqlite(":memory:");
  EXPECT_FALSE(store->setting("facility"));
  store->set_setting("facility", "abc 1");
  store->set_setting("facility", "def 2");
  EXPECT_EQ(store->setting("facility"), "def 2");
}

TEST(SqliteStore, MigratesASchemaVersion1File) {
  TempDir dir;
  auto path = dir.file("portico.db");
  {
    // The file as the first Portico with a store wrote it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* v1 =
        "CREATE TABLE pending_uploads (id TEXT PRIMARY KEY, cluster TEXT NOT NULL, user_name TEXT NOT NULL,"
        " job_id TEXT NOT NULL, object_key TEXT NOT NULL, upload_id TEXT NOT NULL, size INTEGER NOT NULL,"
        " created INTEGER NOT NULL, deadline INTEGER NOT NULL, error_log TEXT NOT NULL);"
        "INSERT INTO pending_uploads VALUES ('a', 'hpc', 'alice', '42', 'k', 'u', 7, 10, 20, 'log');"
        "PRAGMA user_version=1;";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open_sqlite(path);
  auto uploads = store->pending_uploads();
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_EQ(uploads[0].job_id, "42");
  store->put_incident(incident("a", 1000));
  EXPECT_EQ(store->incidents().size(), 1u);
}

TEST(SqliteStore, RefusesAFileOfANewerSchema) {
  TempDir dir;
  auto path = dir.file("portico.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99;", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  try {
    open_sqlite(path);
    FAIL() << "opened a newer schema";
  } catch (const core::Failure& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(SqliteStore, KeepsJobSpecsPerClusterAndJob) {
  auto store = open_sqlite(":memory:");
  EXPECT_FALSE(store->job_spec("hpc", "42"));
  store->put_job_spec({"hpc", "42", "alice", R"({"executable":"/bin/true"})", 100});
  store->put_job_spec({"other", "42", "bob", "{}", 101});
  auto spec = store->job_spec("hpc", "42");
  ASSERT_TRUE(spec);
  EXPECT_EQ(*spec, (JobSpecRecord{"hpc", "42", "alice", R"({"executable":"/bin/true"})", 100}));
  store->put_job_spec({"hpc", "42", "alice", "{\"name\":\"x\"}", 102});
  EXPECT_EQ(store->job_spec("hpc", "42")->spec, "{\"name\":\"x\"}");
  EXPECT_EQ(store->job_spec("other", "42")->user, "bob");
  EXPECT_EQ(store->remove_job_specs_before(102), 1u);  // other/42 (101); hpc/42 was replaced at 102
  EXPECT_FALSE(store->job_spec("other", "42"));
  EXPECT_TRUE(store->job_spec("hpc", "42"));
}

TEST(SqliteStore, IdempotencyKeysAreClaimedOnceAndExpire) {
  auto store = open_sqlite(":memory:");
  IdempotencyRecord claim{"alice", "k1", "POST /job {a}", true, 0, "", 1000, 2000};
  EXPECT_FALSE(store->claim_idempotency_key(claim));  // free: now in flight
  auto held = store->claim_idempotency_key(claim);
  ASSERT_TRUE(held);
  EXPECT_TRUE(held->in_flight);
  EXPECT_EQ(held->fingerprint, "POST /job {a}");
  // Keys are per user.
  EXPECT_FALSE(store->claim_idempotency_key({"bob", "k1", "x", true, 0, "", 1000, 2000}));
  store->finish_idempotency_key("alice", "k1", 200, R"({"id":"7"})");
  held = store->claim_idempotency_key(claim);
  ASSERT_TRUE(held);
  EXPECT_FALSE(held->in_flight);
  EXPECT_EQ(held->status, 200);
  EXPECT_EQ(held->response, R"({"id":"7"})");
  // Expired at the claim's time: forgotten, and claimed anew.
  IdempotencyRecord later{"alice", "k1", "other", true, 2000, "", 2000, 3000};
  EXPECT_FALSE(store->claim_idempotency_key(later));
  EXPECT_EQ(store->claim_idempotency_key(later)->fingerprint, "other");
  store->release_idempotency_key("alice", "k1");
  EXPECT_FALSE(store->claim_idempotency_key(later));
}

TEST(SqliteStore, MigratesASchemaVersion2FileToVersion3) {
  TempDir dir;
  auto path = dir.file("portico.db");
  { auto store = open_sqlite(path); store->set_setting("a", "b"); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TABLE job_specs; DROP TABLE idempotency_keys; PRAGMA user_version=2;", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open_sqlite(path);
  EXPECT_EQ(store->setting("a"), "b");
  store->put_job_spec({"hpc", "1", "alice", "{}", 1});
  EXPECT_TRUE(store->job_spec("hpc", "1"));
  EXPECT_FALSE(store->claim_idempotency_key({"alice", "k", "f", true, 0, "", 1, 2}));
}

TEST(SqliteStore, KeepsTasksAcrossReopeningAndForgetsEndedOnes) {
  TempDir dir;
  auto path = dir.file("portico.db");
  TaskRecord running{"t1", "alice", "active", R"({"router":"filesystem","command":"ls","args":{}})", "", 10, 11, {}};
  TaskRecord done{"t2", "alice", "completed", "{}", R"({"output":[]})", 20, 25, 25};
  TaskRecord bobs{"t3", "bob", "failed", "{}", R"({"error":"no"})", 30, 31, 31};
  {
    auto store = open_sqlite(path);
    store->put_task(done);
    store->put_task(running);
    store->put_task(bobs);
  }
  auto store = open_sqlite(path);
  EXPECT_EQ(store->task("t1"), running);
  EXPECT_FALSE(store->task("unknown"));
  auto alices = store->tasks_of("alice");
  ASSERT_EQ(alices.size(), 2u);
  EXPECT_EQ(alices[0], running);  // oldest first
  EXPECT_EQ(alices[1], done);
  auto unfinished = store->unfinished_tasks();
  ASSERT_EQ(unfinished.size(), 1u);
  EXPECT_EQ(unfinished[0].id, "t1");
  // Only ended tasks are forgotten, and only those that ended before the time given.
  EXPECT_EQ(store->remove_tasks_ended_before(31), 1u);
  EXPECT_FALSE(store->task("t2"));
  EXPECT_TRUE(store->task("t1"));
  EXPECT_TRUE(store->task("t3"));
}

}  // namespace
}  // namespace portico::store

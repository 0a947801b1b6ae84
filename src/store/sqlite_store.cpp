#include "store/store.hpp"

#include <sqlite3.h>

#include <mutex>

#include "core/error.hpp"

namespace portico::store {

namespace {

using core::ErrorKind;
using core::Failure;

// The schema's version, in SQLite's user_version: a later Portico migrates from it.
constexpr int kSchemaVersion = 1;

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
      throw Failure(ErrorKind::internal, std::string("store: cannot prepare a statement: ") + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& text) {
    check(sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, i, value));
    return *this;
  }
  // True while a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Failure(ErrorKind::internal, std::string("store: ") + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw Failure(ErrorKind::internal, std::string("store: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw Failure(ErrorKind::internal, "store: cannot open " + path + ": " + message);
    }
    // Another process holding the file briefly (a second replica, the CLI) is waited for.
    sqlite3_busy_timeout(db_, 5000);
    try {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
      Statement version(db_, "PRAGMA user_version");
      version.step();
      auto found = version.integer(0);
      if (found > kSchemaVersion)
        throw Failure(ErrorKind::internal, "store: " + path + " was written by a newer Portico (schema " +
                                               std::to_string(found) + ")");
      exec("CREATE TABLE IF NOT EXISTS pending_uploads ("
           " id TEXT PRIMARY KEY, cluster TEXT NOT NULL, user_name TEXT NOT NULL, job_id TEXT NOT NULL,"
           " object_key TEXT NOT NULL, upload_id TEXT NOT NULL, size INTEGER NOT NULL,"
           " created INTEGER NOT NULL, deadline INTEGER NOT NULL, error_log TEXT NOT NULL)");
      exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    } catch (const Failure& e) {
      sqlite3_close(db_);
      throw Failure(ErrorKind::internal, std::string(e.what()) + " (" + path + ")");
    }
  }
  ~SqliteStore() override { sqlite3_close(db_); }

  void add_pending_upload(const PendingUpload& u) override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT OR REPLACE INTO pending_uploads (id, cluster, user_name, job_id, object_key, upload_id, size,"
                " created, deadline, error_log) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    s.bind(1, u.id).bind(2, u.cluster).bind(3, u.user).bind(4, u.job_id).bind(5, u.object_key).bind(6, u.upload_id);
    s.bind(7, static_cast<std::int64_t>(u.size)).bind(8, u.created).bind(9, u.deadline).bind(10, u.error_log);
    s.step();
  }

  std::vector<PendingUpload> pending_uploads() override {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT id, cluster, user_name, job_id, object_key, upload_id, size, created, deadline, error_log"
                " FROM pending_uploads ORDER BY created, id");
    std::vector<PendingUpload> out;
    while (s.step()) {
      PendingUpload u;
      u.id = s.text(0);
      u.cluster = s.text(1);
      u.user = s.text(2);
      u.job_id = s.text(3);
      u.object_key = s.text(4);
      u.upload_id = s.text(5);
      u.size = static_cast<std::uint64_t>(s.integer(6));
      u.created = s.integer(7);
      u.deadline = s.integer(8);
      u.error_log = s.text(9);
      out.push_back(std::move(u));
    }
    return out;
  }

  void remove_pending_upload(const std::string& id) override {
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM pending_uploads WHERE id = ?1");
    s.bind(1, id);
    s.step();
  }

 private:
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw Failure(ErrorKind::internal, "store: " + message);
    }
  }

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<Store> open_sqlite(const std::string& path) { return std::make_unique<SqliteStore>(path); }

}  // namespace portico::store

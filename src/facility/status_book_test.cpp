#include "facility/status_book.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "config/config.hpp"
#include "core/error.hpp"
#include "store/store.hpp"

namespace portico::facility {
namespace {

config::Config demo_config() {
  auto r = config::parse_config(R"(
auth: {issuer: http://127.0.0.1:9400, audience: x}
ssh_ca: {private_key_file: /etc/ca}
clusters:
  - name: hpc
    ssh: {host: 127.0.0.1, host_public_key: "ssh-ed25519 AAAA"}
    file_systems: [{path: /home}]
)");
  EXPECT_TRUE(r.errors.empty());
  return *r.config;
}

class StatusBookTest : public ::testing::Test {
 protected:
  StatusBookTest() : model(build_model(demo_config())), store(store::open_sqlite(":memory:")) {}

  const std::string& id(const std::string& name) { return model.resource_named(name)->id; }
  void see(StatusBook& book, const std::string& name, Status s, core::Millis at) { book.observe({{id(name), s, "probe"}}, at); }
  void all_up(StatusBook& book, core::Millis at) {
    for (auto n : {"hpc", "hpc scheduler", "hpc:/home", "portico"}) see(book, n, Status::up, at);
  }

  Model model;
  std::unique_ptr<store::Store> store;
  std::chrono::seconds retention{90 * 24 * 3600};
};

TEST_F(StatusBookTest, FirstObservationsAreEventsWithoutIncidents) {
  StatusBook book(model, *store, retention);
  auto before = book.snapshot()->generation;
  all_up(book, 1000);
  auto s = book.snapshot();
  EXPECT_GT(s->generation, before);
  EXPECT_EQ(s->events.size(), 4u);
  EXPECT_TRUE(s->incidents.empty());
  EXPECT_EQ(s->current_status(id("hpc")), Status::up);
  all_up(book, 2000);  // unchanged: nothing new
  EXPECT_EQ(book.snapshot()->events.size(), 4u);
  EXPECT_EQ(book.snapshot()->generation, s->generation);
}

TEST_F(StatusBookTest, OutageOpensOneIncidentResolvedWhenAllAreUp) {
  StatusBook book(model, *store, retention);
  all_up(book, 1000);
  see(book, "hpc scheduler", Status::down, 2000);
  see(book, "hpc", Status::degraded, 2000);
  see(book, "hpc scheduler", Status::up, 3000);  // flapping inside the incident
  see(book, "hpc scheduler", Status::down, 4000);
  auto s = book.snapshot();
  ASSERT_EQ(s->incidents.size(), 1u);
  const auto& i = s->incidents[0];
  EXPECT_EQ(i.type, IncidentType::unplanned);
  EXPECT_EQ(i.resolution, Resolution::unresolved);
  EXPECT_EQ(i.status, Status::down);
  EXPECT_EQ(i.start, 2000);
  EXPECT_EQ(i.resource_ids, (std::vector<std::string>{id("hpc scheduler"), id("hpc")}));
  EXPECT_EQ(i.event_ids.size(), 4u);
  EXPECT_FALSE(i.end);

  see(book, "hpc scheduler", Status::up, 5000);
  EXPECT_EQ(book.snapshot()->incidents[0].resolution, Resolution::unresolved);  // hpc still degraded
  see(book, "hpc", Status::up, 6000);
  s = book.snapshot();
  EXPECT_EQ(s->incidents[0].resolution, Resolution::completed);
  EXPECT_EQ(s->incidents[0].end, 6000);
  EXPECT_EQ(s->incidents[0].status, Status::up);
  EXPECT_EQ(s->incidents[0].event_ids.size(), 6u);

  see(book, "hpc:/home", Status::down, 7000);  // a new outage: a new incident
  EXPECT_EQ(book.snapshot()->incidents.size(), 2u);
}

TEST_F(StatusBookTest, EverythingSurvivesARestart) {
  char dir[] = "/tmp/portico-book-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  auto path = std::string(dir) + "/portico.db";
  std::vector<std::string> before;
  {
    auto file = store::open_sqlite(path);
    StatusBook book(model, *file, retention);
    all_up(book, core::now_millis());
    auto t = core::now_millis();
    book.observe({{id("hpc scheduler"), Status::down, "a"}, {id("hpc"), Status::degraded, "b"}}, t);  // one instant
    before = book.snapshot()->incidents[0].event_ids;
  }
  auto file = store::open_sqlite(path);
  StatusBook book(model, *file, retention);
  auto s = book.snapshot();
  ASSERT_EQ(s->incidents.size(), 1u);
  EXPECT_EQ(s->incidents[0].event_ids, before);  // the same events in the same order
  EXPECT_EQ(s->current_status(id("hpc scheduler")), Status::down);
  see(book, "hpc scheduler", Status::up, core::now_millis());
  see(book, "hpc", Status::up, core::now_millis());
  EXPECT_EQ(book.snapshot()->incidents[0].resolution, Resolution::completed);
  std::filesystem::remove_all(dir);
}

TEST_F(StatusBookTest, PlannedMaintenanceWindow) {
  StatusBook book(model, *store, retention);
  all_up(book, 1000);
  PlannedIncident p;
  p.name = "scheduler upgrade";
  p.description = "Slurm 23";
  p.start = 10'000;
  p.end = 20'000;
  p.resource_ids = {"hpc scheduler", id("hpc")};  // names or ids
  auto declared = book.declare(p, 2000);
  EXPECT_EQ(declared.resolution, Resolution::pending);
  EXPECT_EQ(declared.type, IncidentType::planned);
  EXPECT_EQ(declared.resource_ids, (std::vector<std::string>{id("hpc scheduler"), id("hpc")}));
  book.tick(9'999);
  EXPECT_EQ(book.snapshot()->current_status(id("hpc")), Status::up);
  book.tick(10'000);
  auto s = book.snapshot();
  EXPECT_EQ(s->incident(declared.id)->resolution, Resolution::unresolved);
  EXPECT_EQ(s->current_status(id("hpc")), Status::down);  // the declared status
  EXPECT_EQ(s->incident(declared.id)->event_ids.size(), 2u);
  see(book, "hpc scheduler", Status::down, 11'000);  // probes during the window change nothing
  see(book, "hpc scheduler", Status::up, 12'000);
  EXPECT_EQ(book.snapshot()->incidents.size(), 1u);
  book.tick(20'000);
  s = book.snapshot();
  EXPECT_EQ(s->incident(declared.id)->resolution, Resolution::completed);
  EXPECT_EQ(s->incident(declared.id)->event_ids.size(), 4u);
  EXPECT_EQ(s->current_status(id("hpc")), Status::up);  // what probes last saw
}

// A window declared after it ended starts and ends in one round: its events keep that order,
// in memory and in the store a reload reads, however their random ids compare.
TEST_F(StatusBookTest, APastWindowsEventsKeepTheirOrder) {
  for (int round = 0; round < 20; ++round) {
    StatusBook book(model, *store, retention);
    all_up(book, 1000);
    PlannedIncident p;
    p.name = "past " + std::to_string(round);
    p.start = 100;
    p.end = 200;
    p.resource_ids = {"hpc"};
    auto declared = book.declare(p, 3000);
    book.tick(3000);
    auto statuses = [&](const StatusBook& b) {
      std::vector<Status> out;
      for (const auto& e : b.snapshot()->events)
        if (e.incident_id == declared.id) out.push_back(e.status);
      return out;
    };
    EXPECT_EQ(statuses(book), (std::vector<Status>{Status::down, Status::up}));
    std::vector<std::string> stored;  // the order a reload reads
    for (const auto& e : store->events(0))
      if (e.incident_id == declared.id) stored.push_back(e.status);
    EXPECT_EQ(stored, (std::vector<std::string>{"down", "up"}));
  }
}

TEST_F(StatusBookTest, BadDeclarationsAreRefused) {
  StatusBook book(model, *store, retention);
  PlannedIncident p;
  p.name = "x";
  p.start = 2000;
  p.end = 1000;
  p.resource_ids = {"nowhere"};
  try {
    book.declare(p, 0);
    FAIL();
  } catch (const core::Failure& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::validation);
    ASSERT_EQ(e.fields().size(), 2u);
    EXPECT_EQ(e.fields()[0].name, "end");
    EXPECT_EQ(e.fields()[1].name, "resource_ids");
  }
  EXPECT_THROW(book.cancel("nope", 0), core::Failure);
}

TEST_F(StatusBookTest, CancelEndsAWindowThatHasBegun) {
  StatusBook book(model, *store, retention);
  all_up(book, 1000);
  PlannedIncident p;
  p.name = "reboot";
  p.start = 1000;
  p.end = 100'000;
  p.resource_ids = {"hpc"};
  auto i = book.declare(p, 2000);
  EXPECT_EQ(i.resolution, Resolution::unresolved);  // already in its window
  auto c = book.cancel(i.id, 3000);
  EXPECT_EQ(c.resolution, Resolution::cancelled);
  EXPECT_EQ(c.end, 3000);
  EXPECT_EQ(book.snapshot()->current_status(id("hpc")), Status::up);
  try {
    book.cancel(i.id, 4000);
    FAIL();
  } catch (const core::Failure& e) {
    EXPECT_EQ(e.kind(), core::ErrorKind::conflict);
  }
}

TEST_F(StatusBookTest, SeesIncidentsAnotherProcessDeclared) {
  char dir[] = "/tmp/portico-book-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  auto path = std::string(dir) + "/portico.db";
  auto gateway_store = store::open_sqlite(path);
  StatusBook gateway(model, *gateway_store, retention);
  {
    auto command_store = store::open_sqlite(path);
    StatusBook command(model, *command_store, retention);
    PlannedIncident p;
    p.name = "later";
    p.start = core::now_millis() + 3600'000;
    p.end = p.start + 3600'000;
    p.resource_ids = {"hpc"};
    command.declare(p, core::now_millis());
  }
  EXPECT_TRUE(gateway.snapshot()->incidents.empty());
  see(gateway, "hpc", Status::up, core::now_millis());  // its own write in between hides nothing
  gateway.tick(core::now_millis());
  EXPECT_EQ(gateway.snapshot()->incidents.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST_F(StatusBookTest, OldEventsAreForgotten) {
  StatusBook book(model, *store, std::chrono::seconds(3600));
  see(book, "hpc", Status::up, 1000);
  see(book, "hpc", Status::down, 3'000'000);
  book.tick(3'601'001);
  auto s = book.snapshot();
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].occurred_at, 3'000'000);
  EXPECT_EQ(s->incidents[0].event_ids.size(), 1u);
}

}  // namespace
}  // namespace portico::facility

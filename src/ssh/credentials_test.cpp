#include "ssh/credentials.hpp"
#include "ssh/test_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "ssh/certificate.hpp"

using namespace portico;
using namespace portico::ssh;
using namespace std::chrono_literals;
using std::chrono::system_clock;
namespace fs = std::filesystem;

namespace {

using portico::ssh::testing::Output;
using portico::ssh::testing::run;
using portico::ssh::testing::TempDir;

std::string keygen(const TempDir& dir, const std::string& name, const std::string& args = "-N ''") {
  std::string path = dir / name;
  auto r = run("ssh-keygen -q -t ed25519 " + args + " -f " + path);
  if (r.status != 0) throw std::runtime_error("ssh-keygen failed: " + r.text);
  return path;
}

// Signs key.pub with ssh-keygen; returns the certificate's path.
std::string ssh_keygen_sign(const std::string& ca, const std::string& key, const std::string& principals,
                            const std::string& validity, const std::string& id = "static") {
  auto r = run("ssh-keygen -q -s " + ca + " -I " + id + " -n " + principals + " -V " + validity + " " + key + ".pub");
  if (r.status != 0) throw std::runtime_error("ssh-keygen -s failed: " + r.text);
  return key + "-cert.pub";
}

std::string certificate_blob(const Credential& cred) {
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(cred.certificate.get(), &b64) != SSH_OK) throw std::runtime_error("export failed");
  std::string bytes = wire::base64_decode(b64);
  ssh_string_free_char(b64);
  return bytes;
}

ParsedCertificate certificate_of(const Credential& cred) { return parse_certificate(certificate_blob(cred)); }

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<system_clock::rep>> ticks =
      std::make_shared<std::atomic<system_clock::rep>>(system_clock::time_point(1'900'000'000s).time_since_epoch().count());
  system_clock::time_point now() const { return system_clock::time_point(system_clock::duration(ticks->load())); }
  void advance(system_clock::duration d) { *ticks += d.count(); }
  Clock clock() const {
    auto t = ticks;
    return [t] { return system_clock::time_point(system_clock::duration(t->load())); };
  }
};

std::uint64_t epoch_seconds(system_clock::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count());
}

template <class F>
core::Failure failure_of(F&& f) {
  try {
    f();
  } catch (const core::Failure& e) {
    return e;
  }
  return core::Failure(core::ErrorKind::internal, "(no failure)");
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

// ---- CaCredentialProvider ----

TEST(CaCredentialProvider, IssuesACertificateForTheUser) {
  TempDir dir;
  auto ca_path = keygen(dir, "ca");
  FakeClock clock;
  CaCredentialProvider provider(SigningKey::from_file(ca_path), 300s, clock.clock());
  auto cred = provider.credential_for("alice");

  ASSERT_TRUE(cred->private_key);
  ASSERT_TRUE(cred->certificate);
  EXPECT_EQ(cred->user, "alice");
  EXPECT_EQ(ssh_key_type(cred->private_key.get()), SSH_KEYTYPE_ED25519);
  EXPECT_EQ(ssh_key_type(cred->certificate.get()), SSH_KEYTYPE_ED25519_CERT01);
  EXPECT_TRUE(ssh_key_is_private(cred->private_key.get()));

  auto cert = certificate_of(*cred);
  char* b64 = nullptr;
  ASSERT_EQ(ssh_pki_export_pubkey_base64(cred->private_key.get(), &b64), SSH_OK);
  // With the certificate attached, libssh presents the certificate for the private key.
  EXPECT_EQ(wire::base64_decode(b64), certificate_blob(*cred));
  ssh_string_free_char(b64);
  const auto& f = cert.fields;
  EXPECT_EQ(cert.algorithm, "ssh-ed25519-cert-v01@openssh.com");
  EXPECT_EQ(f.type, CertificateType::user);
  EXPECT_EQ(f.principals, std::vector<std::string>{"alice"});
  EXPECT_EQ(f.key_id, "portico:alice:" + std::to_string(f.serial));
  EXPECT_EQ(cred->key_id, f.key_id);
  EXPECT_EQ(f.valid_after, epoch_seconds(clock.now()) - 60);
  EXPECT_EQ(f.valid_before, epoch_seconds(clock.now()) + 300);
  EXPECT_EQ(cred->expires, system_clock::time_point(std::chrono::seconds(f.valid_before)));
  EXPECT_TRUE(f.critical_options.empty());
  EXPECT_TRUE(f.extensions.empty());  // no pty or forwarding: Portico only runs commands
  EXPECT_EQ(cert.signature_key, provider.ca().public_key_blob());

  // ssh-keygen accepts it and names our CA as the signer.
  std::ofstream(dir / "alice-cert.pub") << certificate_line(certificate_blob(*cred)) << "\n";
  auto listed = run("ssh-keygen -L -f " + dir / "alice-cert.pub");
  ASSERT_EQ(listed.status, 0) << listed.text;
  EXPECT_NE(listed.text.find("Signing CA: ED25519 " + provider.ca().fingerprint()), std::string::npos) << listed.text;
}

TEST(CaCredentialProvider, CachesPerUserWithIncreasingSerials) {
  TempDir dir;
  FakeClock clock;
  CaCredentialProvider provider(SigningKey::from_file(keygen(dir, "ca")), 300s, clock.clock());
  auto a1 = provider.credential_for("alice");
  auto b1 = provider.credential_for("bob");
  EXPECT_EQ(provider.credential_for("alice"), a1);
  EXPECT_EQ(provider.credential_for("bob"), b1);
  EXPECT_NE(a1, b1);
  EXPECT_EQ(certificate_of(*b1).fields.principals, std::vector<std::string>{"bob"});
  EXPECT_GT(certificate_of(*b1).fields.serial, certificate_of(*a1).fields.serial);
  // Distinct key pairs per user.
  EXPECT_NE(ssh_key_cmp(a1->private_key.get(), b1->private_key.get(), SSH_KEY_CMP_PUBLIC), 0);
}

TEST(CaCredentialProvider, SerialsContinueAcrossRestarts) {
  TempDir dir;
  auto ca = keygen(dir, "ca");
  std::uint64_t first = 0;
  {
    CaCredentialProvider provider(SigningKey::from_file(ca), 300s);
    first = certificate_of(*provider.credential_for("alice")).fields.serial;
  }
  std::this_thread::sleep_for(2ms);
  CaCredentialProvider restarted(SigningKey::from_file(ca), 300s);
  EXPECT_GT(certificate_of(*restarted.credential_for("alice")).fields.serial, first);
}

TEST(CaCredentialProvider, RenewsWhenAThirdOfTheValidityRemains) {
  TempDir dir;
  FakeClock clock;
  CaCredentialProvider provider(SigningKey::from_file(keygen(dir, "ca")), 300s, clock.clock());
  auto first = provider.credential_for("alice");
  clock.advance(199s);  // 101 s left: kept
  EXPECT_EQ(provider.credential_for("alice"), first);
  clock.advance(2s);  // 99 s left, under 300/3: renewed
  auto second = provider.credential_for("alice");
  EXPECT_NE(second, first);
  EXPECT_EQ(second->expires, clock.now() + 300s);
  EXPECT_GT(certificate_of(*second).fields.serial, certificate_of(*first).fields.serial);
  EXPECT_EQ(provider.credential_for("alice"), second);
  // The first credential stays usable by whoever still holds it.
  EXPECT_TRUE(first->private_key);
}

TEST(CaCredentialProvider, RenewsWithAtLeastAMinuteLeft) {
  TempDir dir;
  FakeClock clock;
  auto ca = SigningKey::from_file(keygen(dir, "ca"));
  CaCredentialProvider hour(ca, 3600s, clock.clock());  // margin 1200 s
  EXPECT_FALSE(hour.needs_renewal(clock.now() + 1201s, clock.now()));
  EXPECT_TRUE(hour.needs_renewal(clock.now() + 1199s, clock.now()));

  CaCredentialProvider minute(ca, 90s, clock.clock());  // a third is 30 s: the 60 s floor applies
  auto first = minute.credential_for("alice");
  clock.advance(29s);  // 61 s left
  EXPECT_EQ(minute.credential_for("alice"), first);
  clock.advance(2s);  // 59 s left
  EXPECT_NE(minute.credential_for("alice"), first);
  EXPECT_GE(minute.credential_for("alice")->expires - clock.now(), 60s);

  EXPECT_THROW(CaCredentialProvider(ca, 59s), std::invalid_argument);
}

TEST(CaCredentialProvider, RefusesInvalidUserNamesAndRoot) {
  TempDir dir;
  CaCredentialProvider provider(SigningKey::from_file(keygen(dir, "ca")), 300s);
  for (const char* bad : {"", "Alice", "../root", "alice bob", "alice,bob", "$(id)", "-oProxyCommand", "root"}) {
    auto failure = failure_of([&] { provider.credential_for(bad); });
    EXPECT_EQ(failure.kind(), core::ErrorKind::forbidden) << bad;
  }
}

TEST(CaCredentialProvider, ManyThreadsGetValidCredentials) {
  TempDir dir;
  FakeClock clock;
  CaCredentialProvider provider(SigningKey::from_file(keygen(dir, "ca")), 300s, clock.clock());
  const std::vector<std::string> users = {"alice", "bob", "carol", "dave"};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto& user = users[(t + i) % users.size()];
        if (t == 0 && i % 20 == 0) clock.advance(30s);  // forces renewals while others read
        const auto before = clock.now();  // the provider reads the clock after this
        auto cred = provider.credential_for(user);
        if (cred->user != user || !cred->certificate || cred->expires - before < 60s) ++bad;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

// ---- StaticKeyProvider ----

TEST(StaticKeyProvider, LoadsKeysAndCertificates) {
  TempDir dir;
  auto ca = keygen(dir, "ca");
  auto alice_key = keygen(dir, "alice");
  auto alice_cert = ssh_keygen_sign(ca, alice_key, "alice", "+1h", "alice-static");
  auto bob_key = keygen(dir, "bob");
  StaticKeyProvider provider({{"alice", alice_key, alice_cert}, {"bob", bob_key, ""}});

  auto alice = provider.credential_for("alice");
  ASSERT_TRUE(alice->certificate);
  EXPECT_EQ(ssh_key_type(alice->certificate.get()), SSH_KEYTYPE_ED25519_CERT01);
  EXPECT_EQ(alice->key_id, "alice-static");
  EXPECT_GT(alice->expires, system_clock::now() + 55min);
  EXPECT_LT(alice->expires, system_clock::now() + 61min);
  EXPECT_EQ(provider.credential_for("alice"), alice);

  auto bob = provider.credential_for("bob");
  EXPECT_FALSE(bob->certificate);
  EXPECT_TRUE(ssh_key_is_private(bob->private_key.get()));
  EXPECT_EQ(bob->expires, system_clock::time_point::max());

  auto unknown = failure_of([&] { provider.credential_for("carol"); });
  EXPECT_EQ(unknown.kind(), core::ErrorKind::forbidden);
  EXPECT_STREQ(unknown.what(), "no SSH credential configured for user carol");
  EXPECT_EQ(failure_of([&] { provider.credential_for("../x"); }).kind(), core::ErrorKind::forbidden);
}

TEST(StaticKeyProvider, RefusesAnExpiredCertificate) {
  TempDir dir;
  auto ca = keygen(dir, "ca");
  auto key = keygen(dir, "alice");
  auto cert = ssh_keygen_sign(ca, key, "alice", "+10m");
  FakeClock clock;
  clock.advance(system_clock::now().time_since_epoch() - clock.now().time_since_epoch());
  StaticKeyProvider provider({{"alice", key, cert}}, clock.clock());
  EXPECT_TRUE(provider.credential_for("alice"));
  clock.advance(9min + 30s);  // under a minute left
  auto failure = failure_of([&] { provider.credential_for("alice"); });
  EXPECT_EQ(failure.kind(), core::ErrorKind::forbidden);
  EXPECT_NE(failure.detail().find(cert), std::string::npos) << failure.detail();
}

TEST(StaticKeyProvider, NamesTheFileThatCannotBeUsed) {
  TempDir dir;
  auto ca = keygen(dir, "ca");
  auto key = keygen(dir, "alice");
  auto other = keygen(dir, "other");
  auto other_cert = ssh_keygen_sign(ca, other, "alice", "+1h");
  auto encrypted = keygen(dir, "encrypted", "-N secret");
  auto missing = dir / "missing";
  std::ofstream(dir / "junk") << "not a key\n";

  auto message = error_of([&] { StaticKeyProvider({{"alice", missing, ""}}); });
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  message = error_of([&] { StaticKeyProvider({{"alice", dir / "junk", ""}}); });
  EXPECT_NE(message.find(dir / "junk"), std::string::npos) << message;
  message = error_of([&] { StaticKeyProvider({{"alice", encrypted, ""}}); });
  EXPECT_NE(message.find(encrypted), std::string::npos) << message;
  EXPECT_NE(message.find("passphrase"), std::string::npos) << message;
  message = error_of([&] { StaticKeyProvider({{"alice", key, other_cert}}); });
  EXPECT_NE(message.find(other_cert), std::string::npos) << message;
  EXPECT_NE(message.find("not for the key"), std::string::npos) << message;
  message = error_of([&] { StaticKeyProvider({{"alice", key, missing}}); });
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  message = error_of([&] { StaticKeyProvider({{"alice", key, key + ".pub"}}); });
  EXPECT_NE(message.find(key + ".pub"), std::string::npos) << message;
  message = error_of([&] { StaticKeyProvider({{"alice", key, ""}, {"alice", key, ""}}); });
  EXPECT_NE(message.find("twice"), std::string::npos) << message;
}

// ---- make_credential_provider ----

TEST(MakeCredentialProvider, ChoosesTheCaElseStaticKeys) {
  TempDir dir;
  auto ca = keygen(dir, "ca");
  auto key = keygen(dir, "alice");
  config::Config cfg;
  cfg.ssh_ca = config::SshCa{ca, std::chrono::seconds(120), {}};
  cfg.static_keys = {{"alice", key, ""}};
  auto provider = make_credential_provider(cfg);
  EXPECT_NE(dynamic_cast<CaCredentialProvider*>(provider.get()), nullptr);
  EXPECT_TRUE(provider->credential_for("bob")->certificate);

  cfg.ssh_ca.reset();
  provider = make_credential_provider(cfg);
  EXPECT_NE(dynamic_cast<StaticKeyProvider*>(provider.get()), nullptr);

  cfg.static_keys.clear();
  EXPECT_THROW(make_credential_provider(cfg), std::runtime_error);

  cfg.ssh_ca = config::SshCa{dir / "missing-ca", std::chrono::seconds(120), {}};
  auto message = error_of([&] { make_credential_provider(cfg); });
  EXPECT_NE(message.find(dir / "missing-ca"), std::string::npos) << message;
}

TEST(MakeCredentialProvider, RefusesACaKeyOthersCanReadOrThatIsNotItsOwn) {
  TempDir dir;
  auto ca = keygen(dir, "ca");
  config::Config cfg;
  cfg.ssh_ca = config::SshCa{ca, std::chrono::seconds(120), {}};
  for (auto mode : {0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(ca.c_str(), static_cast<mode_t>(mode)), 0);
    auto message = error_of([&] { make_credential_provider(cfg); });
    EXPECT_NE(message.find(ca), std::string::npos) << message;
    EXPECT_NE(message.find("chmod 600"), std::string::npos) << message;
  }
  ASSERT_EQ(::chmod(ca.c_str(), 0600), 0);
  EXPECT_TRUE(make_credential_provider(cfg));
  if (::geteuid() == 0) {  // only root can give the file away
    ASSERT_EQ(::chown(ca.c_str(), 65534, static_cast<gid_t>(-1)), 0);
    auto message = error_of([&] { make_credential_provider(cfg); });
    EXPECT_NE(message.find("must be owned by"), std::string::npos) << message;
  }
}

// ---- against the demo site's sshd ----

namespace {

struct Site {
  std::string host;
  int port = 0;
  std::string ca_key;
  std::string host_public_key;
};

std::optional<Site> demo_site() {
  std::ifstream in(std::string(PORTICO_SOURCE_DIR) + "/var/site/site.json");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  auto ssh = boost::json::parse(text.str()).at("ssh").as_object();
  return Site{std::string(ssh.at("host").as_string()), static_cast<int>(ssh.at("port").to_number<std::int64_t>()),
              std::string(ssh.at("ca_key").as_string()), std::string(ssh.at("host_public_key").as_string())};
}

struct SessionFree {
  void operator()(ssh_session s) const noexcept {
    if (ssh_is_connected(s)) ssh_disconnect(s);
    ssh_free(s);
  }
};
using SessionPtr = std::unique_ptr<ssh_session_struct, SessionFree>;

// A blocking session to the site's sshd as `user`, its host key checked against the pinned one.
SessionPtr connect_as(const Site& site, const std::string& user) {
  SessionPtr s(ssh_new());
  if (!s) throw std::runtime_error("ssh_new failed");
  int port = site.port;
  long timeout = 10;
  bool no = false;
  ssh_options_set(s.get(), SSH_OPTIONS_HOST, site.host.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port);
  ssh_options_set(s.get(), SSH_OPTIONS_USER, user.c_str());
  ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &timeout);
  ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
  ssh_options_set(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
  ssh_options_set(s.get(), SSH_OPTIONS_HOSTKEYS, "ssh-ed25519");
  if (ssh_connect(s.get()) != SSH_OK)
    throw std::runtime_error(std::string("connect failed: ") + ssh_get_error(s.get()));

  ssh_key server = nullptr;
  ssh_key pinned = nullptr;
  if (ssh_get_server_publickey(s.get(), &server) != SSH_OK ||
      ssh_pki_import_pubkey_file(site.host_public_key.c_str(), &pinned) != SSH_OK)
    throw std::runtime_error("cannot compare host keys");
  KeyPtr server_key(server), pinned_key(pinned);
  if (ssh_key_cmp(server_key.get(), pinned_key.get(), SSH_KEY_CMP_PUBLIC) != 0)
    throw std::runtime_error("the server's host key is not the pinned one");
  return s;
}

// Authenticates the way the connection pool does.
int authenticate(ssh_session s, const Credential& cred) {
  if (cred.certificate) {
    int rc = ssh_userauth_try_publickey(s, nullptr, cred.certificate.get());
    if (rc != SSH_AUTH_SUCCESS) return rc;
  }
  return ssh_userauth_publickey(s, nullptr, cred.private_key.get());
}

std::string run_remote(ssh_session s, const char* command) {
  ssh_channel channel = ssh_channel_new(s);
  if (!channel) throw std::runtime_error("ssh_channel_new failed");
  std::string out;
  if (ssh_channel_open_session(channel) == SSH_OK && ssh_channel_request_exec(channel, command) == SSH_OK) {
    char buf[256];
    int n;
    while ((n = ssh_channel_read(channel, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<std::size_t>(n));
    ssh_channel_send_eof(channel);
    ssh_channel_close(channel);
  }
  ssh_channel_free(channel);
  return out;
}

}  // namespace

TEST(DemoSite, CaCertificateLogsInAsItsUserOnly) {
  auto site = demo_site();
  if (!site) GTEST_SKIP() << "no demo site (var/site/site.json); start it with site/site up";
  config::Config cfg;
  cfg.ssh_ca = config::SshCa{site->ca_key, std::chrono::seconds(300), {}};
  auto provider = make_credential_provider(cfg);
  auto alice = provider->credential_for("alice");

  auto s = connect_as(*site, "alice");
  ASSERT_EQ(ssh_userauth_try_publickey(s.get(), nullptr, alice->certificate.get()), SSH_AUTH_SUCCESS)
      << ssh_get_error(s.get());
  ASSERT_EQ(ssh_userauth_publickey(s.get(), nullptr, alice->private_key.get()), SSH_AUTH_SUCCESS)
      << ssh_get_error(s.get());
  EXPECT_EQ(run_remote(s.get(), "id -un"), "alice\n");
  // The cached credential serves a second connection too.
  auto again = connect_as(*site, "alice");
  ASSERT_EQ(authenticate(again.get(), *provider->credential_for("alice")), SSH_AUTH_SUCCESS);

  auto as_bob = connect_as(*site, "bob");
  EXPECT_EQ(ssh_userauth_try_publickey(as_bob.get(), nullptr, alice->certificate.get()), SSH_AUTH_DENIED);
  EXPECT_EQ(ssh_userauth_publickey(as_bob.get(), nullptr, alice->private_key.get()), SSH_AUTH_DENIED);

  auto bob = connect_as(*site, "bob");
  ASSERT_EQ(authenticate(bob.get(), *provider->credential_for("bob")), SSH_AUTH_SUCCESS) << ssh_get_error(bob.get());
  EXPECT_EQ(run_remote(bob.get(), "id -un"), "bob\n");
}

TEST(DemoSite, ForeignCaIsRefused) {
  auto site = demo_site();
  if (!site) GTEST_SKIP() << "no demo site (var/site/site.json); start it with site/site up";
  TempDir dir;
  CaCredentialProvider provider(SigningKey::from_file(keygen(dir, "rogue-ca")), 300s);
  auto s = connect_as(*site, "alice");
  EXPECT_EQ(authenticate(s.get(), *provider.credential_for("alice")), SSH_AUTH_DENIED);
}

TEST(DemoSite, StaticKeyWithCertificateLogsIn) {
  auto site = demo_site();
  if (!site) GTEST_SKIP() << "no demo site (var/site/site.json); start it with site/site up";
  TempDir dir;
  auto key = keygen(dir, "bob");
  auto cert = ssh_keygen_sign(site->ca_key, key, "bob", "-1m:+10m", "portico-test-static");
  StaticKeyProvider provider({{"bob", key, cert}});
  auto s = connect_as(*site, "bob");
  ASSERT_EQ(authenticate(s.get(), *provider.credential_for("bob")), SSH_AUTH_SUCCESS) << ssh_get_error(s.get());
  EXPECT_EQ(run_remote(s.get(), "id -un"), "bob\n");
}

// source-address: sshd accepts the certificate from the gateway's address only.
TEST(DemoSite, SourceAddressBindsTheCertificateToTheGateway) {
  auto site = demo_site();
  if (!site) GTEST_SKIP() << "no demo site (var/site/site.json); start it with site/site up";
  CaCredentialProvider here(SigningKey::from_file(site->ca_key), 300s, {}, {"127.0.0.0/8", "::1"});
  auto cred = here.credential_for("alice");
  auto cert = certificate_of(*cred);
  std::string value;
  wire::put_string(value, "127.0.0.0/8,::1");
  EXPECT_EQ(cert.fields.critical_options, (std::vector<CertificateOption>{{"source-address", value}}));
  auto s = connect_as(*site, "alice");
  ASSERT_EQ(authenticate(s.get(), *cred), SSH_AUTH_SUCCESS) << ssh_get_error(s.get());
  EXPECT_EQ(run_remote(s.get(), "id -un"), "alice\n");

  CaCredentialProvider elsewhere(SigningKey::from_file(site->ca_key), 300s, {}, {"192.0.2.1/32"});
  auto refused = connect_as(*site, "alice");
  EXPECT_NE(authenticate(refused.get(), *elsewhere.credential_for("alice")), SSH_AUTH_SUCCESS);
}

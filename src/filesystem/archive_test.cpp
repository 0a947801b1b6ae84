#include "filesystem/archive.hpp"

#include "filesystem/test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace portico::filesystem;
using namespace portico::filesystem::fstest;
using portico::core::CommandResult;
using portico::core::ErrorKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

const std::vector<std::string> adversarial = {"with space", "quote'single", "quote\"double", "$(id)", "`id`",
                                              "new\nline", "-leading-dash", "semi;colon", "star*"};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The regular files under root, as "relative/path=content", sorted.
std::vector<std::string> tree(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file())
      out.push_back(std::filesystem::relative(e.path(), root).string() + "=" + read_all(e.path().string()));
  std::sort(out.begin(), out.end());
  return out;
}

// Runs compress_commands() as the route does: find's stdout is tar's stdin.
int compress(const CompressCommands& commands, const std::string& scratch) {
  std::string redirect;
  if (commands.find) {
    auto found = run(*commands.find);
    if (found.status != 0) return found.status;
    write_file(scratch, found.out);
    redirect = "< " + portico::core::shell_quote(scratch);
  }
  return run(commands.tar, redirect).status;
}

CommandResult failed_with_stderr(const std::vector<std::string>& argv) {
  auto r = run(argv, "2>&1 >/dev/null");
  CommandResult result;
  result.exit_status = r.status;
  result.err = r.out;
  return result;
}

}  // namespace

TEST(ParseCompression, AcceptsTheFourNamesAndDefaultsToGzip) {
  EXPECT_EQ(parse_compression(std::nullopt, "body", "compression"), Compression::gzip);
  EXPECT_EQ(parse_compression("none", "body", "compression"), Compression::none);
  EXPECT_EQ(parse_compression("gzip", "body", "compression"), Compression::gzip);
  EXPECT_EQ(parse_compression("bzip2", "body", "compression"), Compression::bzip2);
  EXPECT_EQ(parse_compression("xz", "body", "compression"), Compression::xz);
  for (const char* bad : {"", "zip", "GZIP", "gzip ", "-z", "lz4"}) {
    try {
      parse_compression(std::string_view(bad), "body", "compression");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const portico::core::Failure& f) {
      EXPECT_EQ(f.kind(), ErrorKind::validation);
      ASSERT_EQ(f.fields().size(), 1u);
      EXPECT_EQ(f.fields()[0].name, "compression");
    }
  }
}

TEST(CompressCommands, RootsTheArchiveAtTheParentAndEndsOptions) {
  auto c = compress_commands("/home/alice/-dir", "/home/alice/a:b.tgz", std::nullopt, false, Compression::gzip);
  EXPECT_FALSE(c.find);
  EXPECT_THAT(c.tar, ElementsAre("env", "LC_ALL=C", "tar", "-c", "-z", "--force-local", "-f", "/home/alice/a:b.tgz",
                                 "-C", "/home/alice", "--", "-dir"));
  auto root = compress_commands("/home", "/scratch/h.tar", std::nullopt, true, Compression::none);
  EXPECT_THAT(root.tar, ElementsAre("env", "LC_ALL=C", "tar", "-c", "--force-local", "--dereference", "-f",
                                    "/scratch/h.tar", "-C", "/", "--", "home"));
}

TEST(CompressCommands, APatternIsOneFindArgumentAndNamesAreDotSlashed) {
  auto c = compress_commands("/home/alice/d", "/home/alice/x.tar.xz", std::string(".*'; id; '"), true,
                             Compression::xz);
  ASSERT_TRUE(c.find);
  EXPECT_THAT(*c.find, ElementsAre("env", "-C", "/home/alice", "LC_ALL=C", "find", "-L", "./d", "-type", "f",
                                   "-regex", ".*'; id; '", "-print0"));
  EXPECT_THAT(c.tar, ElementsAre("env", "LC_ALL=C", "tar", "-c", "-J", "--force-local", "--dereference", "-f",
                                 "/home/alice/x.tar.xz", "-C", "/home/alice", "--null", "--verbatim-files-from",
                                 "--no-recursion", "-T", "-"));
}

TEST(ExtractCommand, ReadsTheArchiveIntoTheTarget) {
  EXPECT_THAT(extract_command("/home/a/x.tbz", "/home/a/-out", Compression::bzip2),
              ElementsAre("env", "LC_ALL=C", "tar", "-x", "-j", "--force-local", "-f", "/home/a/x.tbz", "-C",
                          "/home/a/-out"));
}

// The real tar round trip, each compression, with names a shell would mangle.
TEST(Archive, RoundTripsEveryCompressionWithAdversarialNames) {
  for (auto compression : {Compression::none, Compression::gzip, Compression::bzip2, Compression::xz}) {
    TempDir dir;
    std::string src = dir.path() + "/-src dir";
    std::filesystem::create_directories(src + "/sub $x");
    for (const auto& name : adversarial) write_file(src + "/" + name, "content of " + name);
    write_file(src + "/sub $x/inner", "inner");
    std::string archive = dir.path() + "/out:1.tar";
    ASSERT_EQ(compress(compress_commands(src, archive, std::nullopt, false, compression), dir.path() + "/list"), 0);
    std::string out = dir.path() + "/-extracted";
    std::filesystem::create_directories(out);
    ASSERT_EQ(run(extract_command(archive, out, compression)).status, 0);
    EXPECT_EQ(tree(out + "/-src dir"), tree(src));
    EXPECT_EQ(tree(out).size(), adversarial.size() + 1);
  }
}

TEST(Archive, APatternSelectsRegularFilesUnderTheSourceOnly) {
  TempDir dir;
  std::string src = dir.path() + "/d";
  std::filesystem::create_directories(src + "/sub");
  write_file(src + "/a.txt", "a");
  write_file(src + "/b.dat", "b");
  write_file(src + "/sub/c.txt", "c");
  write_file(src + "/-dash.txt", "-");
  write_file(dir.path() + "/sibling.txt", "not in the source");
  std::string archive = dir.path() + "/p.tgz";
  ASSERT_EQ(compress(compress_commands(src, archive, std::string(".*\\.txt"), false, Compression::gzip),
                     dir.path() + "/list"),
            0);
  auto listing = run({"tar", "-tzf", archive});
  std::vector<std::string> names;
  std::istringstream lines(listing.out);
  for (std::string line; std::getline(lines, line);) names.push_back(line);
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("./d/-dash.txt", "./d/a.txt", "./d/sub/c.txt"));
}

TEST(Archive, DereferenceArchivesWhatALinkPointsTo) {
  TempDir dir;
  std::string src = dir.path() + "/d";
  std::filesystem::create_directories(src);
  write_file(dir.path() + "/real.txt", "real");
  std::filesystem::create_symlink(dir.path() + "/real.txt", src + "/link.txt");
  for (bool pattern : {false, true}) {
    std::string archive = dir.path() + "/l.tar";
    std::optional<std::string> p = pattern ? std::optional<std::string>(".*") : std::nullopt;
    ASSERT_EQ(compress(compress_commands(src, archive, p, true, Compression::none), dir.path() + "/list"), 0);
    std::string out = dir.path() + "/out" + std::to_string(pattern);
    std::filesystem::create_directories(out);
    ASSERT_EQ(run(extract_command(archive, out, Compression::none)).status, 0);
    auto link = out + "/d/link.txt";
    EXPECT_FALSE(std::filesystem::is_symlink(link));
    EXPECT_EQ(read_all(link), "real");
  }
}

// Real stderr of GNU tar 1.34 and its decompressors for archives they cannot read.
TEST(ArchiveFailure, ACorruptOrMislabelledArchiveIsABadRequest) {
  TempDir dir;
  std::string junk = dir.path() + "/junk.tgz";
  write_file(junk, std::string(2000, 'j'));
  for (auto compression : {Compression::none, Compression::gzip, Compression::bzip2, Compression::xz}) {
    auto result = failed_with_stderr(extract_command(junk, dir.path(), compression));
    ASSERT_NE(result.exit_status, 0);
    auto f = archive_failure(result, "tar");
    EXPECT_EQ(f.kind(), ErrorKind::bad_request) << result.err;
    EXPECT_EQ(std::string(f.what()).find('\n'), std::string::npos);
  }
  // A gzip archive cut short.
  std::filesystem::create_directories(dir.path() + "/d");
  write_file(dir.path() + "/d/f", std::string(100000, 'x') + "tail");
  std::string good = dir.path() + "/good.tgz";
  ASSERT_EQ(run(compress_commands(dir.path() + "/d", good, std::nullopt, false, Compression::gzip).tar).status, 0);
  auto bytes = read_all(good);
  write_file(good, bytes.substr(0, bytes.size() / 2));
  auto cut = failed_with_stderr(extract_command(good, dir.path(), Compression::gzip));
  EXPECT_EQ(archive_failure(cut, "tar").kind(), ErrorKind::bad_request) << cut.err;
}

// Found by fuzz/tool_errors_fuzz (corpus: finding-archive-control-characters): tar's line names
// a member, which may hold any byte; the message reaches the client and the log as one line.
TEST(ArchiveFailure, TheMessageHoldsNoControlCharacters) {
  CommandResult result;
  result.exit_status = 2;
  result.err = "bzip2: (stdin) is not a bzip2 file.\x01\x1b[31m\rFAKE log line\n";
  auto f = archive_failure(result, "tar");
  EXPECT_EQ(f.kind(), ErrorKind::bad_request);
  EXPECT_EQ(std::string(f.what()), "bzip2: (stdin) is not a bzip2 file.  [31m FAKE log line");
  result.err = std::string(300, 'x') + " Data integrity error";
  EXPECT_EQ(std::string(archive_failure(result, "tar").what()), std::string(200, 'x') + "...");
}

TEST(ArchiveFailure, KeepsTheCoreutilsMapping) {
  TempDir dir;
  auto missing = failed_with_stderr(extract_command(dir.path() + "/nosuch.tgz", dir.path(), Compression::gzip));
  EXPECT_EQ(archive_failure(missing, "tar").kind(), ErrorKind::not_found) << missing.err;
  auto source = failed_with_stderr(
      compress_commands(dir.path() + "/nosuch", dir.path() + "/x.tgz", std::nullopt, false, Compression::gzip).tar);
  EXPECT_EQ(archive_failure(source, "tar").kind(), ErrorKind::not_found) << source.err;
  auto found = failed_with_stderr(
      *compress_commands(dir.path() + "/nosuch", dir.path() + "/x.tgz", std::string(".*"), false, Compression::gzip)
           .find);
  EXPECT_EQ(archive_failure(found, "find").kind(), ErrorKind::not_found) << found.err;
  CommandResult timed_out;
  timed_out.exit_status = 124;
  EXPECT_EQ(archive_failure(timed_out, "tar").kind(), ErrorKind::timeout);
}

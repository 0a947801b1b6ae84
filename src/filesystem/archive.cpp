#include "filesystem/archive.hpp"

#include "filesystem/errors.hpp"

#include <array>

namespace portico::filesystem {

namespace {

std::vector<std::string> tar_start(char mode, Compression compression) {
  std::vector<std::string> argv{"env", "LC_ALL=C", "tar", std::string("-") + mode};
  switch (compression) {
    case Compression::none: break;
    case Compression::gzip: argv.emplace_back("-z"); break;
    case Compression::bzip2: argv.emplace_back("-j"); break;
    case Compression::xz: argv.emplace_back("-J"); break;
  }
  argv.emplace_back("--force-local");
  return argv;
}

// What the decompressors and tar say about an archive they cannot read.
constexpr std::array<std::string_view, 12> corrupt_phrases{{
    "not in gzip format",
    "unexpected end of file",
    "invalid compressed data",
    "is not a bzip2 file",
    "Compressed file ends unexpectedly",
    "Data integrity error",
    "File format not recognized",
    "Unexpected end of input",
    "Compressed data is corrupt",
    "This does not look like a tar archive",
    "Unexpected EOF in archive",
    "Member name contains",
}};

}  // namespace

Compression parse_compression(const std::optional<std::string_view>& text, std::string_view location,
                              std::string_view field) {
  if (!text) return Compression::gzip;
  if (*text == "none") return Compression::none;
  if (*text == "gzip") return Compression::gzip;
  if (*text == "bzip2") return Compression::bzip2;
  if (*text == "xz") return Compression::xz;
  throw core::validation_error(std::string(location), std::string(field), "must be one of none, gzip, bzip2, xz");
}

CompressCommands compress_commands(const std::string& source, const std::string& target,
                                   const std::optional<std::string>& match_pattern, bool dereference,
                                   Compression compression) {
  auto slash = source.rfind('/');
  std::string parent = slash == 0 ? "/" : source.substr(0, slash);
  std::string name = source.substr(slash + 1);

  CompressCommands out;
  out.tar = tar_start('c', compression);
  if (dereference) out.tar.emplace_back("--dereference");
  out.tar.insert(out.tar.end(), {"-f", target, "-C", parent});
  if (!match_pattern) {
    out.tar.insert(out.tar.end(), {"--", name});
    return out;
  }
  // find prints "./name/..." from the parent (env -C); tar reads those names, NUL-separated and
  // never as options, relative to the same parent.
  out.tar.insert(out.tar.end(), {"--null", "--verbatim-files-from", "--no-recursion", "-T", "-"});
  std::vector<std::string> find{"env", "-C", parent, "LC_ALL=C", "find"};
  if (dereference) find.emplace_back("-L");
  find.insert(find.end(), {"./" + name, "-type", "f", "-regex", *match_pattern, "-print0"});
  out.find = std::move(find);
  return out;
}

std::vector<std::string> extract_command(const std::string& source, const std::string& target,
                                         Compression compression) {
  auto argv = tar_start('x', compression);
  argv.insert(argv.end(), {"-f", source, "-C", target});
  return argv;
}

core::Failure archive_failure(const core::CommandResult& result, std::string_view what) {
  auto failure = command_failure(result, what);
  if (failure.kind() != core::ErrorKind::internal || !result.signal.empty()) return failure;
  std::string_view err = result.err;
  for (auto phrase : corrupt_phrases) {
    auto at = err.find(phrase);
    if (at == std::string_view::npos) continue;
    auto begin = err.rfind('\n', at);
    begin = begin == std::string_view::npos ? 0 : begin + 1;
    auto end = err.find('\n', at);
    auto line = err.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    std::string message = message_line(line);
    return core::Failure(core::ErrorKind::bad_request, message, std::string(what) + ": " + message);
  }
  return failure;
}

}  // namespace portico::filesystem

#include "filesystem/stream_commands.hpp"

#include "core/bytes.hpp"

#include "core/numbers.hpp"
#include "filesystem/paths.hpp"

namespace portico::filesystem {

namespace {

// $1 path, $2 "whole" or "ranged". stat -L follows links as the user; `test -r` asks the kernel
// whether the user may read it (ACLs included) before anything is promised to the client.
constexpr std::string_view kDownload = R"(info=$(stat -L -c '%s %F' -- "$1") || exit 1
case $info in
  *' regular file'|*' regular empty file') ;;
  *' directory') printf '%s: Is a directory\n' "$1" >&2; exit 1 ;;
  *) printf '%s: Not a regular file\n' "$1" >&2; exit 1 ;;
esac
test -r "$1" || { printf '%s: Permission denied\n' "$1" >&2; exit 1; }
printf '%s\n' "${info%% *}"
if [ "$2" = ranged ]; then
  read -r first count || exit 0
  case $first$count in *[!0-9]*) exit 2 ;; esac
  exec dd "if=$1" bs=131072 iflag=skip_bytes,count_bytes "skip=$first" "count=$count" status=none
fi
exec cat -- "$1")";

// $1 dir, $2 temp. `set -C` makes the redirection fail if temp exists (O_EXCL), so the script
// never writes through a file or link someone put there.
constexpr std::string_view kUpload = R"(test -d "$1" || { stat -c %F -- "$1" >/dev/null || exit 1; printf '%s: Not a directory\n' "$1" >&2; exit 1; }
set -C
exec 3>"$2" || exit 1
printf 'ready\n'
exec cat >&3)";

// $1 temp, $2 target. sync (fsync(2) of temp) before the rename, as the file calls do: a crash
// after it never leaves a target whose data did not reach the disk. mv -T: a directory that
// appears at target meanwhile is an error, never a place to move into.
constexpr std::string_view kCommit = R"(if test -d "$2"; then printf '%s: Is a directory\n' "$2" >&2; rm -f -- "$1"; exit 1; fi
sync -- "$1" || { rm -f -- "$1"; exit 1; }
mv -fT -- "$1" "$2" || { rm -f -- "$1"; exit 1; })";

std::vector<std::string> script(std::string_view text, std::initializer_list<std::string> args) {
  std::vector<std::string> argv{"env", "LC_ALL=C", "sh", "-c", std::string(text), "sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

std::vector<std::string> download_argv(const std::string& path, bool ranged) {
  return script(kDownload, {path, ranged ? "ranged" : "whole"});
}

std::optional<std::uint64_t> parse_size_line(std::string_view line) { return core::parse_decimal<std::uint64_t>(line); }

bool is_not_regular_file_message(std::string_view err) { return err.find(": Not a regular file") != std::string_view::npos; }

std::vector<std::string> upload_argv(const std::string& dir, const std::string& temp) {
  return script(kUpload, {dir, temp});
}

std::vector<std::string> upload_commit_argv(const std::string& temp, const std::string& target) {
  return script(kCommit, {temp, target});
}

std::vector<std::string> upload_cleanup_argv(const std::string& temp) {
  return {"rm", "-f", "--", temp};
}

std::string upload_temp_name(std::string_view dir, std::string_view random_bytes) {
  return child_path(dir, ".portico-upload." + core::hex(random_bytes));
}

}  // namespace portico::filesystem

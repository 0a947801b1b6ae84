#pragma once
// The batch scripts of transfer jobs. Pure.
//
// Each script is constant bash text that reads its values from positional parameters, and one
// `set -- ...` line that sets them, built by core::command_line: no value is ever spliced into
// script text, so quotes, $(...), backticks, newlines and leading dashes in names stay literal.
// Commands built elsewhere as argv (filesystem/archive.hpp's tar and find) enter the same way,
// as command_line() output.
//
// Each script prints exactly one of the sentences FirecREST clients look for in the job's
// output log ("Files were successfully copied.", "File was successfully uploaded ...") and only
// on success; on failure it writes a line naming the file and the error on stderr and exits
// non-zero, so the job ends FAILED. Scripts need bash, coreutils, and for S3 staging curl.
//
// Thread safety: pure functions of their arguments.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "filesystem/archive.hpp"

namespace portico::transfer {

// REQUIRES for all: paths returned by filesystem::confine().
//
// `resume`: the job takes over an operation an interrupted attempt may have partly done (an IRI
// task that outlasted its direct run). `target` is then the exact destination, never a directory
// to copy or move into (cp/mv -T: what the attempt made there is completed, not nested), and
// what the attempt already did is no error (a tree it moved partly is copied on and its source
// removed; a path it already deleted is gone as asked).
std::string copy_script(const std::string& source, const std::string& target, bool dereference, bool resume = false);
std::string move_script(const std::string& source, const std::string& target, bool resume = false);
std::string remove_script(const std::string& path, bool resume = false);
std::string compress_script(const std::string& source, const std::string& target,
                            const filesystem::CompressCommands& commands);
std::string extract_script(const std::string& source, const std::string& target,
                           const std::vector<std::string>& tar);

// Staged upload: GETs the completed object (get_url) into a new hidden file beside `target`,
// checks it holds `size` bytes, renames it over target, then DELETEs the object (delete_url).
std::string upload_script(const std::string& target, const std::string& get_url, const std::string& delete_url,
                          std::uint64_t size);

// Staged download: checks `source` still has the size the parts were cut for, then PUTs part i
// (bytes [(i-1)*part_bytes, i*part_bytes)) to part_urls[i-1], `parallel` at a time, each tried
// up to three times, and completes the multipart upload with the parts' ETags.
// REQUIRES: part_urls.size() == parts_for(size, part_bytes) for the size the caller saw.
std::string download_script(const std::string& source, std::uint64_t part_bytes, unsigned parallel,
                            const std::vector<std::string>& part_urls, const std::string& complete_url);

// The number of parts of a multipart upload of `size` bytes: at least one (an empty object is
// one empty part).
std::uint64_t parts_for(std::uint64_t size, std::uint64_t part_bytes);

}  // namespace portico::transfer

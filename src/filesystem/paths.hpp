#pragma once
// Confining a client's path to the cluster's configured file systems, lexically.
//
// Thread safety: pure functions of their arguments; call from any thread.

#include "config/config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace portico::filesystem {

// Longest path accepted, in bytes (Linux PATH_MAX counts the NUL, so 4095 is the most a system
// call takes; 4096 leaves that decision to the OS).
inline constexpr std::size_t max_path_bytes = 4096;
// Longest single file name accepted (NAME_MAX).
inline constexpr std::size_t max_name_bytes = 255;

// Returns `path` normalised: duplicate slashes, "." and ".." removed, no trailing slash.
// The file system is never touched: a symbolic link inside the path is resolved later by the OS,
// as the user, with the user's permissions, which is the only resolution that counts.
// Throws core::validation_error(location, field, ...) when the path
//  - is empty, not absolute, longer than max_path_bytes or holds a NUL byte (any other byte,
//    newlines and non-UTF-8 included, is a legal file name and is kept);
//  - is, after normalisation, neither a configured file-system path nor under one
//    ("/home" admits "/home/alice", not "/homex");
//  - uses ".." to leave a file system at any step ("/home/../scratch/x" is refused even though
//    its end lies in /scratch: a client has no reason to write it, and refusing keeps the rule
//    "a path never leaves its file system" simple to audit).
// location: "query" or "body"; field: the request field's name as the client sent it.
std::string confine(std::string_view path, const std::vector<config::FileSystem>& file_systems,
                    std::string_view location, std::string_view field);

// True when `path` (returned by confine()) is one of the file systems' own roots, which rm and
// compress refuse (a user's mistake there costs everyone).
bool is_file_system_root(const std::string& path, const std::vector<config::FileSystem>& file_systems);

// Checks one file name that will be created inside a directory (an upload's filename): not empty,
// not "." or "..", no '/', no NUL, at most max_name_bytes. Returns it unchanged.
// Throws core::validation_error(location, field, ...) otherwise.
std::string confine_target_name(std::string_view name, std::string_view location, std::string_view field);

// dir + "/" + name, for a dir returned by confine() and a name checked by confine_target_name().
std::string child_path(std::string_view dir, std::string_view name);

}  // namespace portico::filesystem

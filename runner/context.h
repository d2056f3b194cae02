#pragma once
// Which files of a build context define an experiment: the ones the Dockerfile COPYs or ADDs
// (not the whole folder, so an unrelated file beside the recipe does not change the run id).
// They are stored with the run (context/<name>) so `lupa reproduce` can rebuild the image.

#include "db/run_files.h"
#include "util/error.h"

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace runner {

// The local sources of the COPY and ADD instructions of `dockerfile` (not URLs, not
// `--from=` stages), as written (relative to the context, may hold wildcards).
std::vector<std::string> dockerfile_sources(std::string_view dockerfile);

// The files of `context` those sources name (directories recursively, wildcards by fnmatch),
// except `exclude` (relative names), as run files; an error names a file that cannot be
// stored (binary, over 1 MiB, unsafe name) or a source that matches nothing.
util::Result<std::vector<db::RunFile>> context_files(const std::filesystem::path& context,
                                                     std::string_view dockerfile,
                                                     const std::set<std::string>& exclude);

} // namespace runner

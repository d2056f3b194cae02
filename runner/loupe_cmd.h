#pragma once
// Loupe compatibility: a Loupe-style Dockerfile ends with a CMD that runs explore.py, e.g.
//   CMD cd /tmp/nginx/nginx-tests && /root/explore.py --output-csv --test-sequential
//       -t /root/nginx-test.sh -b /usr/bin/prove -- -m .     (one line, or continued with \)
// The runner builds the image, reads that CMD back from the image's configuration, and runs
// what it asks for with lupa's explorer (same flags) in its own containers.

#include "explorer/options.h"
#include "util/error.h"

#include <optional>
#include <string>
#include <vector>

namespace runner {

struct LoupeCommand {
  std::optional<std::string> workdir; // from leading `cd DIR &&` (else the image's WORKDIR)
  explorer::Options options;          // the explore.py flags, as lupa-explore parses them
  std::vector<std::string> argv;      // the explorer's arguments after the program name
};

// Splits `script` into words like a POSIX shell (quotes, backslashes), without expansions.
util::Result<std::vector<std::string>> shell_words(const std::string& script);

// The explore.py invocation in an image's CMD (`cmd`: exec form, or ["/bin/sh", "-c",
// script]); `dockerfile` names the file in errors.
util::Result<LoupeCommand> parse_loupe_cmd(const std::vector<std::string>& cmd,
                                           const std::string& dockerfile);

} // namespace runner

#pragma once
// A recipe: one application under one workload (apps/<app>/<workload>.toml, format in
// apps/README.md). Loading validates everything a run needs up front; every error names the
// file, the line and the field.

#include "db/layout.h"
#include "explorer/strategy.h"
#include "util/error.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace runner {

struct Recipe {
  std::filesystem::path file;        // the recipe (absolute)
  std::filesystem::path dir;         // its folder: the image's build context
  std::string app;
  db::Workload workload;
  std::filesystem::path dockerfile;  // absolute
  std::string binary;                // absolute path inside the image
  std::vector<std::string> args;
  std::optional<std::filesystem::path> test_script; // absolute, inside `dir`
  std::chrono::milliseconds timeout{4000};
  unsigned replicas = 1;
  std::optional<std::string> workdir;       // inside the image
  std::optional<std::string> only_consider; // inside the image
  std::string network = "none";             // "none" or "bridge"
  std::optional<explorer::Strategy> strategy;
  std::optional<int> ready_port;
  std::optional<std::string> ready_log;
  std::optional<std::chrono::milliseconds> ready_timeout;
};

// Reads and validates the recipe at `file`.
util::Result<Recipe> load_recipe(const std::filesystem::path& file);

// Parses recipe `text` as if read from `file` (whose folder holds the Dockerfile and scripts).
util::Result<Recipe> parse_recipe(std::string_view text, const std::filesystem::path& file);

// The recipes under `apps_dir` (every apps/<app>/<workload>.toml), sorted by path.
std::vector<std::filesystem::path> find_recipes(const std::filesystem::path& apps_dir);

} // namespace runner

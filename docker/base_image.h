#pragma once
// lupa's base image, made here without any registry: mmdebstrap builds a minimal Debian root
// file system from the machine's Debian mirror, with its updates and security pockets (minbase + ca-certificates + netbase: without
// netbase, wrk fails with "Servname not supported"), the engine imports it, and it is tagged
// twice: lupa-base:<suite> (what recipes build FROM) and loupe-base:latest (what Loupe's
// Dockerfiles build FROM). The tarball is cached, so a second engine or a rebuilt engine
// store imports it again in seconds.

#include "docker/engine.h"
#include "util/error.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace docker {

// The tag recipes build FROM.
inline constexpr const char* k_base_image = "lupa-base:bookworm";
// The tag Loupe's Dockerfiles build FROM.
inline constexpr const char* k_loupe_base_image = "loupe-base:latest";

struct BaseImageOptions {
  std::string suite = "bookworm";
  // Empty: the machine's own Debian mirror with its -updates and -security pockets (apt
  // sources), else deb.debian.org. Else a mirror URI or "deb URI SUITE COMPONENTS" line: the
  // only source.
  std::string mirror;
  std::vector<std::string> include{"ca-certificates", "netbase"};
  std::filesystem::path cache_dir; // empty: $XDG_CACHE_HOME/lupa or ~/.cache/lupa
  bool rebuild = false;            // make the root file system again even when cached
};

struct BaseImage {
  std::string name;  // "lupa-base:bookworm"
  std::string id;    // the engine's image id ("sha256:...")
  bool created = false;
};

// The image tag for `options` ("lupa-base:<suite>").
std::string base_image_name(const BaseImageOptions& options);

// The one-line apt entries ("deb URI SUITE COMPONENTS") of the machine's own Debian release
// and of its -updates and -security pockets, retargeted at `suite`, in that order: the base
// image gets the same sources, security updates included. Empty when no Debian archive is
// listed. (Written by hand: libapt-pkg would parse apt's sources, but it is no dependency.)
std::vector<std::string> debian_source_lines(std::string_view sources_list,
                                             std::string_view deb822, std::string_view suite);

// Makes sure `engine` has the base image, creating it when missing (or when
// `options.rebuild`); progress lines go to `on_line`.
util::Result<BaseImage> ensure_base_image(const Engine& engine, const BaseImageOptions& options,
                                          const LineSink& on_line);

} // namespace docker

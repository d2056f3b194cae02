#include "docker/base_image.h"

#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace docker {

namespace {

bool is_debian_archive(std::string_view uri) {
  return (uri.starts_with("http://") || uri.starts_with("https://")) &&
         uri.find("security") == std::string_view::npos;
}

fs::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "lupa";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".cache" / "lupa";
  }
  return fs::temp_directory_path() / "lupa-cache";
}

std::string machine_mirror() {
  std::string list = util::read_file("/etc/apt/sources.list").value_or("");
  std::string deb822;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/etc/apt/sources.list.d", ec)) {
    if (e.path().extension() == ".sources") {
      deb822 += util::read_file(e.path()).value_or("") + "\n";
    } else if (e.path().extension() == ".list") {
      list += util::read_file(e.path()).value_or("") + "\n";
    }
  }
  return debian_mirror(list, deb822);
}

// Builds the root file system tarball at `tarball` with mmdebstrap.
util::Result<void> make_rootfs(const BaseImageOptions& options, const fs::path& tarball,
                               const LineSink& on_line) {
  fs::path mmdebstrap = util::find_in_path("mmdebstrap");
  if (mmdebstrap.empty()) {
    return util::error("mmdebstrap is not installed; lupa makes its base image with it (HINT: "
                       "apt-get install mmdebstrap, or run scripts/install-deps.sh)");
  }
  std::string mirror = options.mirror.empty() ? machine_mirror() : options.mirror;
  if (mirror.empty()) {
    mirror = "http://deb.debian.org/debian";
  }
  // mmdebstrap picks the output format from the extension: the partial name ends in .tar too.
  fs::path partial = tarball.parent_path() /
                     fmt::format("{}.partial-{}.tar", tarball.stem().string(), ::getpid());
  RunSpec spec;
  spec.program = mmdebstrap;
  spec.args = {"--variant=minbase", "--include=" + util::join(options.include, ","),
               options.suite, partial.string(), mirror};
  spec.timeout = 20min;
  spec.on_line = on_line ? on_line : [](std::string_view) {};
  util::log::info("base image: mmdebstrap {} from {} (about 30 s)", options.suite, mirror);
  util::Result<ProcessOutput> out = run_program(spec);
  std::error_code ec;
  if (!out || out->exit_code != 0) {
    fs::remove(partial, ec);
    return util::error(fmt::format(
        "mmdebstrap {} from {} failed: {}", options.suite, mirror,
        out ? (out->timed_out ? "no result within 20 min" : last_lines(out->out, 3)) : out.error()));
  }
  fs::rename(partial, tarball, ec);
  if (ec) {
    fs::remove(partial, ec);
    return util::error(fmt::format("cannot write {}: {}", tarball.string(), ec.message()));
  }
  return {};
}

} // namespace

std::string base_image_name(const BaseImageOptions& options) {
  return "lupa-base:" + options.suite;
}

std::string debian_mirror(std::string_view sources_list, std::string_view deb822) {
  // deb822 stanzas: "URIs: http://deb.debian.org/debian" with "Types: deb".
  for (const std::string& raw : util::split(deb822, '\n')) {
    std::string_view line = util::trim(raw);
    if (line.starts_with("URIs:")) {
      for (const std::string& uri : util::split(util::trim(line.substr(5)), ' ')) {
        if (is_debian_archive(uri)) {
          return uri;
        }
      }
    }
  }
  // One-line style: "deb [options] URI suite components".
  for (const std::string& raw : util::split(sources_list, '\n')) {
    std::vector<std::string> words;
    for (const std::string& w : util::split(util::trim(raw), ' ')) {
      if (!w.empty()) {
        words.push_back(w);
      }
    }
    if (words.size() < 3 || words[0] != "deb") {
      continue;
    }
    size_t i = 1;
    if (words[i].starts_with("[")) {
      while (i < words.size() && !words[i].ends_with("]")) {
        ++i;
      }
      ++i;
    }
    if (i < words.size() && is_debian_archive(words[i])) {
      return words[i];
    }
  }
  return "";
}

util::Result<BaseImage> ensure_base_image(const Engine& engine, const BaseImageOptions& options,
                                          const LineSink& on_line) {
  BaseImage base;
  base.name = base_image_name(options);
  if (!options.rebuild) {
    TRY_ASSIGN(std::optional<std::string> id, engine.image_id(base.name));
    if (id) {
      base.id = *id;
      TRY_ASSIGN(std::optional<std::string> loupe, engine.image_id(k_loupe_base_image));
      if (!loupe || *loupe != *id) {
        TRY(engine.tag(base.name, k_loupe_base_image));
      }
      return base;
    }
  }
  fs::path cache = options.cache_dir.empty() ? default_cache_dir() : options.cache_dir;
  std::error_code ec;
  fs::create_directories(cache, ec);
  if (ec) {
    return util::error(fmt::format("cannot create the cache directory {}: {}", cache.string(),
                                   ec.message()));
  }
  fs::path tarball = cache / fmt::format("rootfs-{}-{}.tar", options.suite,
                                         util::sanitize_name(util::join(options.include, "+")));
  if (options.rebuild || !fs::is_regular_file(tarball, ec)) {
    TRY(make_rootfs(options, tarball, on_line));
  }
  util::log::info("base image: importing {} into {} as {}", tarball.string(),
                  to_string(engine.kind()), base.name);
  TRY_ASSIGN(base.id, engine.import(tarball, base.name));
  TRY(engine.tag(base.name, k_loupe_base_image));
  base.created = true;
  return base;
}

} // namespace docker

#include "docker/base_image.h"

#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <vector>

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

// The machine's apt sources: the one-line texts and the deb822 texts.
std::pair<std::string, std::string> machine_sources() {
  std::string list = util::read_file("/etc/apt/sources.list").value_or("");
  std::string deb822;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/etc/apt/sources.list.d", ec)) {
    if (e.path().extension() == ".sources") {
      deb822 += util::read_file(e.path()).value_or("") + "\n\n";
    } else if (e.path().extension() == ".list") {
      list += util::read_file(e.path()).value_or("") + "\n";
    }
  }
  return {list, deb822};
}

struct AptEntry {
  std::string uri;
  std::string suite;
  std::string components;
};

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (const std::string& w : util::split(util::trim(text), ' ')) {
    if (!w.empty()) {
      out.push_back(w);
    }
  }
  return out;
}

// Every "deb" entry of apt's sources, one per URI and suite, in their order.
std::vector<AptEntry> apt_entries(std::string_view sources_list, std::string_view deb822) {
  std::vector<AptEntry> out;
  // deb822: stanzas separated by blank lines, "Field: value" lines.
  std::map<std::string, std::string> stanza;
  auto flush = [&] {
    std::vector<std::string> types = words_of(stanza["types"]);
    if (std::find(types.begin(), types.end(), "deb") != types.end()) {
      for (const std::string& uri : words_of(stanza["uris"])) {
        for (const std::string& suite : words_of(stanza["suites"])) {
          out.push_back({uri, suite, stanza["components"]});
        }
      }
    }
    stanza.clear();
  };
  for (const std::string& raw : util::split(deb822, '\n')) {
    std::string_view line = util::trim(raw);
    size_t colon = line.find(':');
    if (line.empty()) {
      flush();
    } else if (!line.starts_with("#") && colon != std::string_view::npos) {
      std::string key(util::trim(line.substr(0, colon)));
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      stanza[key] = std::string(util::trim(line.substr(colon + 1)));
    }
  }
  flush();
  // One-line style: "deb [options] URI suite components".
  for (const std::string& raw : util::split(sources_list, '\n')) {
    std::vector<std::string> words = words_of(raw);
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
    if (i + 1 < words.size()) {
      std::vector<std::string> components(words.begin() + static_cast<std::ptrdiff_t>(i + 2),
                                          words.end());
      out.push_back({words[i], words[i + 1], util::join(components, " ")});
    }
  }
  return out;
}

// The apt sources of the base image: the machine's release, its updates and its security
// pockets, for `options.suite`; or `options.mirror` alone; or deb.debian.org.
std::vector<std::string> source_lines(const BaseImageOptions& options) {
  if (!options.mirror.empty()) {
    return {options.mirror};
  }
  auto [list, deb822] = machine_sources();
  std::vector<std::string> lines = debian_source_lines(list, deb822, options.suite);
  if (lines.empty()) {
    lines.push_back("http://deb.debian.org/debian");
  }
  return lines;
}

// Builds the root file system tarball at `tarball` with mmdebstrap.
util::Result<void> make_rootfs(const BaseImageOptions& options,
                               const std::vector<std::string>& mirrors, const fs::path& tarball,
                               const LineSink& on_line) {
  fs::path mmdebstrap = util::find_in_path("mmdebstrap");
  if (mmdebstrap.empty()) {
    return util::error("mmdebstrap is not installed; lupa makes its base image with it (HINT: "
                       "apt-get install mmdebstrap, or run scripts/install-deps.sh)");
  }
  // mmdebstrap picks the output format from the extension: the partial name ends in .tar too.
  fs::path partial = tarball.parent_path() /
                     fmt::format("{}.partial-{}.tar", tarball.stem().string(), ::getpid());
  RunSpec spec;
  spec.program = mmdebstrap;
  spec.args = {"--variant=minbase", "--include=" + util::join(options.include, ","),
               options.suite, partial.string()};
  spec.args.insert(spec.args.end(), mirrors.begin(), mirrors.end());
  std::string mirror = util::join(mirrors, "; ");
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

std::vector<std::string> debian_source_lines(std::string_view sources_list,
                                             std::string_view deb822, std::string_view suite) {
  std::vector<AptEntry> entries = apt_entries(sources_list, deb822);
  // The machine's own release: the first suite of a Debian archive that is not a pocket.
  std::string release;
  for (const AptEntry& e : entries) {
    if (is_debian_archive(e.uri) && e.suite.find('-') == std::string::npos) {
      release = e.suite;
      break;
    }
  }
  std::vector<std::string> out;
  if (release.empty()) {
    return out;
  }
  for (std::string_view pocket : {"", "-updates", "-security"}) {
    for (const AptEntry& e : entries) {
      // The release and its updates come from a Debian archive: an old-style security entry
      // ("deb http://security.debian.org/... bookworm main") is not the release.
      bool archive = pocket == "-security" || is_debian_archive(e.uri);
      if (e.suite != release + std::string(pocket) || !archive) {
        continue;
      }
      std::string line = fmt::format("deb {} {}{} {}", e.uri, suite, pocket,
                                     e.components.empty() ? "main" : e.components);
      if (std::find(out.begin(), out.end(), line) == out.end()) {
        out.push_back(line);
      }
    }
  }
  return out;
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
  // The cached tarball's name says what it holds: suite, packages, and the pockets.
  std::vector<std::string> sources = source_lines(options);
  std::string pockets;
  for (std::string pocket : {"updates", "security"}) {
    std::string suite = options.suite + "-" + pocket;
    if (std::any_of(sources.begin(), sources.end(), [&](const std::string& line) {
          std::vector<std::string> words = words_of(line);
          return std::find(words.begin(), words.end(), suite) != words.end();
        })) {
      pockets += "+" + pocket;
    }
  }
  fs::path tarball = cache / fmt::format("rootfs-{}-{}{}.tar", options.suite,
                                         util::sanitize_name(util::join(options.include, "+")),
                                         pockets);
  if (options.rebuild || !fs::is_regular_file(tarball, ec)) {
    TRY(make_rootfs(options, sources, tarball, on_line));
  }
  util::log::info("base image: importing {} into {} as {}", tarball.string(),
                  to_string(engine.kind()), base.name);
  TRY_ASSIGN(base.id, engine.import(tarball, base.name));
  TRY(engine.tag(base.name, k_loupe_base_image));
  base.created = true;
  return base;
}

} // namespace docker

#include "runner/context.h"

#include "db/verify.h"
#include "runner/loupe_cmd.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace fs = std::filesystem;

namespace runner {

namespace {

constexpr uintmax_t k_max_file = 1u << 20;

std::string upper(std::string_view word) {
  std::string out(word);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// Dockerfile lines with continuations joined, comments dropped.
std::vector<std::string> instructions(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (const std::string& raw : util::split(text, '\n')) {
    std::string_view line = util::trim(raw);
    if (current.empty() && (line.empty() || line.starts_with("#"))) {
      continue;
    }
    if (line.ends_with("\\")) {
      current += std::string(line.substr(0, line.size() - 1)) + " ";
      continue;
    }
    current += line;
    out.push_back(std::move(current));
    current.clear();
  }
  if (!current.empty()) {
    out.push_back(std::move(current));
  }
  return out;
}

} // namespace

std::vector<std::string> dockerfile_sources(std::string_view dockerfile) {
  std::vector<std::string> sources;
  for (const std::string& line : instructions(dockerfile)) {
    size_t space = line.find_first_of(" \t");
    std::string keyword = upper(line.substr(0, space));
    if ((keyword != "COPY" && keyword != "ADD") || space == std::string::npos) {
      continue;
    }
    std::string rest(util::trim(line.substr(space)));
    std::vector<std::string> words;
    if (rest.starts_with("[")) {
      // JSON form: ["src", ..., "dest"]
      for (const std::string& part : util::split(rest.substr(1, rest.rfind(']') - 1), ',')) {
        std::string w(util::trim(part));
        if (w.size() >= 2 && w.front() == '"' && w.back() == '"') {
          words.push_back(w.substr(1, w.size() - 2));
        }
      }
    } else {
      words = shell_words(rest).value_or(std::vector<std::string>{});
    }
    bool other_stage = false;
    std::vector<std::string> args;
    for (const std::string& w : words) {
      if (w.starts_with("--")) {
        other_stage = other_stage || w.starts_with("--from");
        continue;
      }
      args.push_back(w);
    }
    if (other_stage || args.size() < 2) {
      continue;
    }
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i].find("://") == std::string::npos) {
        sources.push_back(args[i]);
      }
    }
  }
  return sources;
}

util::Result<std::vector<db::RunFile>> context_files(const fs::path& context,
                                                     std::string_view dockerfile,
                                                     const std::set<std::string>& exclude) {
  // Every regular file of the context, by relative name.
  std::vector<std::string> all;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(context, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      all.push_back(it->path().lexically_relative(context).string());
    }
  }
  std::map<std::string, db::RunFile> chosen;
  for (std::string source : dockerfile_sources(dockerfile)) {
    while (source.starts_with("./")) {
      source = source.substr(2);
    }
    while (source.size() > 1 && source.ends_with("/")) {
      source.pop_back();
    }
    bool matched = false;
    for (const std::string& name : all) {
      bool hit = source == "." || fnmatch(source.c_str(), name.c_str(), FNM_PATHNAME) == 0 ||
                 name.starts_with(source + "/");
      if (!hit) {
        // A wildcard naming a directory takes what is below it.
        size_t slash = name.find('/');
        while (!hit && slash != std::string::npos) {
          hit = fnmatch(source.c_str(), name.substr(0, slash).c_str(), FNM_PATHNAME) == 0;
          slash = name.find('/', slash + 1);
        }
      }
      if (!hit) {
        continue;
      }
      matched = true;
      if (exclude.contains(name) || chosen.contains(name)) {
        continue;
      }
      fs::path path = context / name;
      if (!db::is_safe_path(name)) {
        return util::error(fmt::format("{}: cannot be stored with the run (names must be "
                                       "[A-Za-z0-9._+-], not hidden)",
                                       path.string()));
      }
      if (fs::file_size(path, ec) > k_max_file) {
        return util::error(fmt::format("{}: over 1 MiB; the database stores recipe files only "
                                       "(let the Dockerfile download or build large inputs)",
                                       path.string()));
      }
      TRY_ASSIGN(std::string content, util::read_file(path));
      if (!db::is_text(content)) {
        return util::error(fmt::format("{}: not a text file; the database stores text recipe "
                                       "files only",
                                       path.string()));
      }
      db::FileMode mode =
          util::is_executable_file(path) ? db::FileMode::executable : db::FileMode::regular;
      chosen[name] = db::RunFile{name, std::move(content), mode};
    }
    if (!matched) {
      return util::error(fmt::format("the Dockerfile copies '{}', which is not in {}", source,
                                     context.string()));
    }
  }
  std::vector<db::RunFile> out;
  for (auto& [name, file] : chosen) {
    out.push_back(std::move(file));
  }
  return out;
}

} // namespace runner

#include "runner/recipe.h"

#include "db/run_files.h"
#include "explorer/readiness.h"
#include "util/fs.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace fs = std::filesystem;

namespace runner {

namespace {

// Errors of one recipe file, each "FILE:LINE: FIELD: what".
class Checker {
public:
  Checker(fs::path file, const toml::table& root) : m_file(std::move(file)), m_root(root) {}

  util::Result<void> fail(const toml::node* node, std::string_view field,
                          std::string_view what) const {
    uint32_t line = node != nullptr ? node->source().begin.line : 0;
    if (line == 0) {
      return util::error(fmt::format("{}: {}: {}", m_file.string(), field, what));
    }
    return util::error(fmt::format("{}:{}: {}: {}", m_file.string(), line, field, what));
  }

  // A string field; `required` fails when absent.
  util::Result<std::optional<std::string>> string(const toml::table& table, std::string_view key,
                                                  std::string_view field, bool required) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      if (required) {
        TRY(fail(&table == &m_root ? nullptr : &table, field, "missing (required)"));
      }
      return std::optional<std::string>();
    }
    if (!node->is_string()) {
      TRY(fail(node, field, "must be a string"));
    }
    return std::optional<std::string>(node->as_string()->get());
  }

  // A positive number of seconds (integer or float).
  util::Result<std::optional<std::chrono::milliseconds>>
  seconds(const toml::table& table, std::string_view key, std::string_view field) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return std::optional<std::chrono::milliseconds>();
    }
    double value = 0;
    if (node->is_integer()) {
      value = static_cast<double>(node->as_integer()->get());
    } else if (node->is_floating_point()) {
      value = node->as_floating_point()->get();
    } else {
      TRY(fail(node, field, "must be a number of seconds"));
    }
    if (!(value > 0) || value > 86400) {
      TRY(fail(node, field, "must be a number of seconds above 0 (at most 86400)"));
    }
    return std::optional<std::chrono::milliseconds>(
        std::chrono::milliseconds(static_cast<int64_t>(std::llround(value * 1000))));
  }

  // An integer in [lo, hi].
  util::Result<std::optional<int64_t>> integer(const toml::table& table, std::string_view key,
                                               std::string_view field, int64_t lo,
                                               int64_t hi) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return std::optional<int64_t>();
    }
    if (!node->is_integer()) {
      TRY(fail(node, field, "must be an integer"));
    }
    int64_t value = node->as_integer()->get();
    if (value < lo || value > hi) {
      TRY(fail(node, field, fmt::format("must be between {} and {}", lo, hi)));
    }
    return std::optional<int64_t>(value);
  }

  // Fails on keys of `table` not in `known`.
  util::Result<void> only(const toml::table& table, const std::set<std::string_view>& known,
                          std::string_view prefix) const {
    for (const auto& [key, node] : table) {
      if (!known.contains(key.str())) {
        std::vector<std::string_view> names(known.begin(), known.end());
        TRY(fail(&node, fmt::format("{}{}", prefix, key.str()),
                 fmt::format("unknown field (known: {})", fmt::join(names, ", "))));
      }
    }
    return {};
  }

  const fs::path& file() const { return m_file; }
  const toml::table& root() const { return m_root; }

private:
  fs::path m_file;
  const toml::table& m_root;
};

// A file named by `field`, relative to the recipe's folder and inside it.
util::Result<fs::path> local_file(const Checker& c, const toml::node* node, std::string_view field,
                                  const std::string& name, const fs::path& dir) {
  fs::path relative(name);
  if (name.empty() || relative.is_absolute()) {
    TRY(c.fail(node, field, "must be a file name relative to the recipe's folder"));
  }
  fs::path path = (dir / relative).lexically_normal();
  std::string rel = path.lexically_relative(dir).string();
  if (rel.empty() || rel.starts_with("..")) {
    TRY(c.fail(node, field, fmt::format("'{}' is outside the recipe's folder", name)));
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    TRY(c.fail(node, field, fmt::format("'{}' not found in {}", name, dir.string())));
  }
  return path;
}

util::Result<void> absolute_in_image(const Checker& c, const toml::node* node,
                                     std::string_view field, const std::string& path) {
  if (!path.starts_with("/")) {
    TRY(c.fail(node, field, fmt::format("'{}' must be an absolute path inside the image", path)));
  }
  return {};
}

const std::set<std::string_view> k_top_keys{
    "app",     "workload",      "kind",    "dockerfile", "binary",   "args",     "test_script",
    "timeout", "replicas",      "workdir", "only_consider", "network", "strategy", "readiness"};
const std::set<std::string_view> k_readiness_keys{"port", "log", "timeout"};

util::Result<Recipe> check(const toml::table& root, const fs::path& file) {
  Checker c(file, root);
  Recipe r;
  r.file = file;
  r.dir = file.parent_path();
  TRY(c.only(root, k_top_keys, ""));

  TRY_ASSIGN(std::optional<std::string> app, c.string(root, "app", "app", true));
  if (!db::is_safe_name(*app)) {
    TRY(c.fail(root.get("app"), "app", fmt::format("'{}' is not a valid name ([A-Za-z0-9._+-], "
                                                   "not starting with '.')", *app)));
  }
  r.app = *app;

  TRY_ASSIGN(std::optional<std::string> kind, c.string(root, "kind", "kind", true));
  if (*kind == "benchmark") {
    r.workload.kind = db::WorkloadKind::benchmark;
  } else if (*kind == "suite") {
    r.workload.kind = db::WorkloadKind::suite;
  } else {
    TRY(c.fail(root.get("kind"), "kind",
               fmt::format("'{}' is neither \"benchmark\" nor \"suite\"", *kind)));
  }
  TRY_ASSIGN(std::optional<std::string> workload,
             c.string(root, "workload", "workload", r.workload.kind == db::WorkloadKind::benchmark));
  r.workload.name = workload.value_or("");
  if (!r.workload.name.empty() && !db::is_safe_name(r.workload.name)) {
    TRY(c.fail(root.get("workload"), "workload",
               fmt::format("'{}' is not a valid name ([A-Za-z0-9._+-])", r.workload.name)));
  }

  TRY_ASSIGN(std::optional<std::string> dockerfile,
             c.string(root, "dockerfile", "dockerfile", true));
  TRY_ASSIGN(r.dockerfile, local_file(c, root.get("dockerfile"), "dockerfile", *dockerfile, r.dir));

  TRY_ASSIGN(std::optional<std::string> binary, c.string(root, "binary", "binary", true));
  TRY(absolute_in_image(c, root.get("binary"), "binary", *binary));
  r.binary = *binary;

  if (const toml::node* args = root.get("args")) {
    const toml::array* array = args->as_array();
    if (array == nullptr) {
      TRY(c.fail(args, "args", "must be an array of strings"));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      if (!item.is_string()) {
        TRY(c.fail(&item, fmt::format("args[{}]", i), "must be a string"));
      }
      r.args.push_back(item.as_string()->get());
    }
  }

  TRY_ASSIGN(std::optional<std::string> test, c.string(root, "test_script", "test_script", false));
  if (test) {
    TRY_ASSIGN(fs::path script, local_file(c, root.get("test_script"), "test_script", *test, r.dir));
    if (!util::is_executable_file(script)) {
      TRY(c.fail(root.get("test_script"), "test_script",
                 fmt::format("'{}' is not executable (chmod +x {})", *test, script.string())));
    }
    r.test_script = script;
  }

  TRY_ASSIGN(std::optional<std::chrono::milliseconds> timeout, c.seconds(root, "timeout", "timeout"));
  if (timeout) {
    r.timeout = *timeout;
  }
  TRY_ASSIGN(std::optional<int64_t> replicas, c.integer(root, "replicas", "replicas", 1, 100));
  if (replicas) {
    r.replicas = static_cast<unsigned>(*replicas);
  }
  TRY_ASSIGN(r.workdir, c.string(root, "workdir", "workdir", false));
  if (r.workdir) {
    TRY(absolute_in_image(c, root.get("workdir"), "workdir", *r.workdir));
  }
  TRY_ASSIGN(r.only_consider, c.string(root, "only_consider", "only_consider", false));
  if (r.only_consider) {
    TRY(absolute_in_image(c, root.get("only_consider"), "only_consider", *r.only_consider));
  }
  TRY_ASSIGN(std::optional<std::string> network, c.string(root, "network", "network", false));
  if (network) {
    if (*network != "none" && *network != "bridge") {
      TRY(c.fail(root.get("network"), "network",
                 fmt::format("'{}' is neither \"none\" nor \"bridge\"", *network)));
    }
    r.network = *network;
  }
  TRY_ASSIGN(std::optional<std::string> strategy, c.string(root, "strategy", "strategy", false));
  if (strategy) {
    r.strategy = explorer::strategy_from_string(*strategy);
    if (!r.strategy) {
      TRY(c.fail(root.get("strategy"), "strategy",
                 fmt::format("'{}' is neither \"group\" nor \"loupe\"", *strategy)));
    }
  }

  if (const toml::node* node = root.get("readiness")) {
    const toml::table* readiness = node->as_table();
    if (readiness == nullptr) {
      TRY(c.fail(node, "readiness", "must be a table ([readiness])"));
    }
    if (r.workload.kind == db::WorkloadKind::suite) {
      TRY(c.fail(node, "readiness", "only benchmarks wait for readiness (kind = \"suite\")"));
    }
    TRY(c.only(*readiness, k_readiness_keys, "readiness."));
    TRY_ASSIGN(std::optional<int64_t> port,
               c.integer(*readiness, "port", "readiness.port", 1, 65535));
    if (port) {
      r.ready_port = static_cast<int>(*port);
    }
    TRY_ASSIGN(r.ready_log, c.string(*readiness, "log", "readiness.log", false));
    if (r.ready_log) {
      if (util::Result<void> ok = explorer::check_pattern(*r.ready_log, "readiness.log"); !ok) {
        TRY(c.fail(readiness->get("log"), "readiness.log", ok.error().substr(ok.error().find(": ") + 2)));
      }
    }
    TRY_ASSIGN(r.ready_timeout, c.seconds(*readiness, "timeout", "readiness.timeout"));
  }
  return r;
}

} // namespace

util::Result<Recipe> parse_recipe(std::string_view text, const fs::path& file) {
  fs::path absolute = fs::absolute(file).lexically_normal();
  toml::table table;
  try {
    table = toml::parse(text, absolute.string());
  } catch (const toml::parse_error& e) {
    return util::error(fmt::format("{}:{}: not valid TOML: {}", absolute.string(),
                                   e.source().begin.line, e.description()));
  }
  return check(table, absolute);
}

util::Result<Recipe> load_recipe(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    return util::error(fmt::format("{}: is a folder; give a recipe file (<app>/<workload>.toml)",
                                   file.string()));
  }
  util::Result<std::string> text = util::read_file(file);
  if (!text) {
    return util::error(fmt::format("{}: cannot read the recipe: {}", file.string(), text.error()));
  }
  return parse_recipe(*text, file);
}

std::vector<fs::path> find_recipes(const fs::path& apps_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const fs::directory_entry& app : fs::directory_iterator(apps_dir, ec)) {
    if (!app.is_directory(ec)) {
      continue;
    }
    for (const fs::directory_entry& e : fs::directory_iterator(app.path(), ec)) {
      if (e.is_regular_file(ec) && e.path().extension() == ".toml") {
        out.push_back(e.path());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace runner

// Recipes: every bundled one loads; every kind of mistake is one line naming file, line, field.

#include "runner/recipe.h"
#include "util/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace fs = std::filesystem;
using runner::Recipe;

namespace {

class RecipeTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "Dockerfile", "FROM lupa-base:bookworm\n"));
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "test.sh", "#!/bin/sh\nexit 0\n"));
    ::chmod((m_dir.path() / "test.sh").c_str(), 0755);
  }

  fs::path file() const { return m_dir.path() / "wrk.toml"; }

  util::Result<Recipe> parse(const std::string& text) { return runner::parse_recipe(text, file()); }

  // The error of `text`, which must not parse.
  std::string error_of(const std::string& text) {
    util::Result<Recipe> r = parse(text);
    EXPECT_FALSE(r) << "accepted:\n" << text;
    return r ? std::string() : r.error();
  }

  util::TempDir m_dir{"lupa-test-recipe"};
};

const std::string k_good = R"(app = "nginx"
workload = "wrk"
kind = "benchmark"
dockerfile = "Dockerfile"
binary = "/usr/sbin/nginx"
args = ["-g", "daemon off;", ""]
test_script = "test.sh"
timeout = 2.5
replicas = 3
only_consider = "/usr/sbin/nginx"
network = "bridge"
strategy = "loupe"

[readiness]
port = 80
log = "ready.*accept"
timeout = 7
)";

} // namespace

TEST(BundledRecipes, EveryOneLoads) {
  std::vector<fs::path> recipes = runner::find_recipes(fs::path(LUPA_SOURCE_DIR) / "apps");
  ASSERT_GE(recipes.size(), 6u) << "nginx, redis, memcached, lighttpd, haproxy, sqlite3";
  std::set<std::string> apps;
  bool suite = false;
  for (const fs::path& p : recipes) {
    util::Result<Recipe> r = runner::load_recipe(p);
    ASSERT_TRUE(r) << r.error();
    apps.insert(r->app);
    suite = suite || r->workload.kind == db::WorkloadKind::suite;
    EXPECT_TRUE(r->test_script) << p << ": every bundled recipe judges by a test script";
  }
  for (const char* app : {"nginx", "redis", "memcached", "lighttpd", "haproxy", "sqlite3"}) {
    EXPECT_TRUE(apps.contains(app)) << app;
  }
  EXPECT_TRUE(suite) << "one test-suite workload";
}

TEST_F(RecipeTest, ReadsEveryField) {
  util::Result<Recipe> r = parse(k_good);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->app, "nginx");
  EXPECT_EQ(r->workload.dir_name(), "benchmark-wrk");
  EXPECT_EQ(r->dockerfile, m_dir.path() / "Dockerfile");
  EXPECT_EQ(r->dir, m_dir.path());
  EXPECT_EQ(r->args, (std::vector<std::string>{"-g", "daemon off;", ""}));
  EXPECT_EQ(r->test_script, m_dir.path() / "test.sh");
  EXPECT_EQ(r->timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(r->replicas, 3u);
  EXPECT_EQ(r->only_consider, "/usr/sbin/nginx");
  EXPECT_EQ(r->network, "bridge");
  EXPECT_EQ(r->strategy, explorer::Strategy::loupe);
  EXPECT_EQ(r->ready_port, 80);
  EXPECT_EQ(r->ready_log, "ready.*accept");
  EXPECT_EQ(r->ready_timeout, std::chrono::milliseconds(7000));
}

TEST_F(RecipeTest, ASuiteMayHaveNoWorkloadName) {
  util::Result<Recipe> r = parse("app = \"sqlite3\"\nkind = \"suite\"\ndockerfile = \"Dockerfile\"\n"
                                 "binary = \"/usr/bin/sqlite3\"\n");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->workload.dir_name(), "suite");
  EXPECT_FALSE(r->test_script);
}

TEST_F(RecipeTest, ErrorsNameTheFileTheLineAndTheField) {
  std::string f = file().string();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = k_good;
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
  };
  EXPECT_EQ(error_of(with("replicas = 3", "replicas = 3\ncolour = \"red\"")),
            f + ":10: colour: unknown field (known: app, args, binary, dockerfile, kind, "
                "network, only_consider, readiness, replicas, strategy, test_script, timeout, "
                "workdir, workload)");
  EXPECT_EQ(error_of(with("binary = \"/usr/sbin/nginx\"\n", "")), f + ": binary: missing (required)");
  EXPECT_EQ(error_of(with("timeout = 2.5", "timeout = \"long\"")),
            f + ":8: timeout: must be a number of seconds");
  EXPECT_EQ(error_of(with("timeout = 2.5", "timeout = -1")),
            f + ":8: timeout: must be a number of seconds above 0 (at most 86400)");
  EXPECT_EQ(error_of(with("kind = \"benchmark\"", "kind = \"bench\"")),
            f + ":3: kind: 'bench' is neither \"benchmark\" nor \"suite\"");
  EXPECT_EQ(error_of(with("port = 80", "port = 80000")),
            f + ":15: readiness.port: must be between 1 and 65535");
  EXPECT_EQ(error_of(with("log = \"ready.*accept\"", "log = \"([\"")).substr(0, f.size() + 20),
            f + ":16: readiness.log: ");
  EXPECT_EQ(error_of(with("timeout = 7", "timeout = 7\nwait = 1")),
            f + ":18: readiness.wait: unknown field (known: log, port, timeout)");
  EXPECT_EQ(error_of(with("args = [\"-g\", \"daemon off;\", \"\"]", "args = [\"-g\", 3]")),
            f + ":6: args[1]: must be a string");
  EXPECT_EQ(error_of(with("binary = \"/usr/sbin/nginx\"", "binary = \"nginx\"")),
            f + ":5: binary: 'nginx' must be an absolute path inside the image");
  EXPECT_EQ(error_of(with("dockerfile = \"Dockerfile\"", "dockerfile = \"Dockerfile.x\"")),
            f + ":4: dockerfile: 'Dockerfile.x' not found in " + m_dir.path().string());
  EXPECT_EQ(error_of(with("test_script = \"test.sh\"", "test_script = \"../test.sh\"")),
            f + ":7: test_script: '../test.sh' is outside the recipe's folder");
  EXPECT_EQ(error_of(with("app = \"nginx\"", "app = \"../etc\"")),
            f + ":1: app: '../etc' is not a valid name ([A-Za-z0-9._+-], not starting with '.')");
  EXPECT_EQ(error_of(with("network = \"bridge\"", "network = \"host\"")),
            f + ":11: network: 'host' is neither \"none\" nor \"bridge\"");
  EXPECT_EQ(error_of(with("kind = \"benchmark\"", "kind = \"suite\"")),
            f + ":14: readiness: only benchmarks wait for readiness (kind = \"suite\")");
  std::string toml = error_of("app = \"x\"\nkind = [\n");
  EXPECT_EQ(toml.rfind(f + ":", 0), 0u) << toml;
  EXPECT_NE(toml.find(": not valid TOML: "), std::string::npos) << toml;
}

TEST_F(RecipeTest, ATestScriptMustBeExecutable) {
  ::chmod((m_dir.path() / "test.sh").c_str(), 0644);
  std::string e = error_of(k_good);
  EXPECT_EQ(e, file().string() + ":7: test_script: 'test.sh' is not executable (chmod +x " +
                   (m_dir.path() / "test.sh").string() + ")");
}

TEST_F(RecipeTest, AFolderOrAMissingFileIsNamed) {
  util::Result<Recipe> dir = runner::load_recipe(m_dir.path());
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().find("is a folder"), std::string::npos);
  util::Result<Recipe> missing = runner::load_recipe(m_dir.path() / "nope.toml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().find((m_dir.path() / "nope.toml").string()), 0u);
}

// Processes and containers, for real: output collection, deadlines, the line protocol, pipes
// not leaking between children, and the Docker engine (images, containers, cleanup).

#include "docker/base_image.h"
#include "docker/engine.h"
#include "docker/process.h"

#include "runner_testutil.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace std::chrono_literals;
using namespace lupa_test;

TEST(RunProgram, CollectsStdoutAndStderrApart) {
  docker::ProcessOutput out = run("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(out.exit_code, 3);
  EXPECT_EQ(out.out, "out\n");
  EXPECT_EQ(out.err, "err\n");
  EXPECT_FALSE(out.timed_out);
}

TEST(RunProgram, StreamsLinesAndFeedsInput) {
  std::vector<std::string> seen;
  docker::RunSpec spec;
  spec.program = "/bin/sh";
  spec.args = {"-c", "cat; echo done >&2"};
  spec.input = "one\ntwo\n";
  spec.on_line = [&](std::string_view line) { seen.emplace_back(line); };
  util::Result<docker::ProcessOutput> out = docker::run_program(spec);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(seen, (std::vector<std::string>{"one", "two", "done"}));
}

TEST(RunProgram, ADeadlineKillsIt) {
  auto start = std::chrono::steady_clock::now();
  docker::ProcessOutput out = run("/bin/sleep", {"30"}, 300ms);
  EXPECT_TRUE(out.timed_out);
  EXPECT_EQ(out.exit_code, -1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(RunProgram, AMissingProgramIsAnError) {
  docker::RunSpec spec;
  spec.program = "/no/such/program";
  util::Result<docker::ProcessOutput> out = docker::run_program(spec);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().find("cannot run /no/such/program"), std::string::npos) << out.error();
}

TEST(LineProcess, SpeaksLinesWithDeadlines) {
  util::Result<std::unique_ptr<docker::LineProcess>> p = docker::LineProcess::start("/bin/cat", {});
  ASSERT_TRUE(p) << p.error();
  ASSERT_TRUE((*p)->write_line("{\"id\": 1}"));
  util::Result<std::optional<std::string>> line = (*p)->read_line(5s);
  ASSERT_TRUE(line) << line.error();
  EXPECT_EQ(**line, "{\"id\": 1}");
  util::Result<std::optional<std::string>> nothing = (*p)->read_line(200ms);
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().find("no answer"), std::string::npos);
  (*p)->close_stdin();
  util::Result<std::optional<std::string>> eof = (*p)->read_line(5s);
  ASSERT_TRUE(eof) << eof.error();
  EXPECT_FALSE(*eof) << "end of output once cat saw the end of its input";
  EXPECT_EQ((*p)->finish(5s), 0);
}

TEST(LineProcess, ChildrenDoNotHoldEachOthersPipes) {
  // Two workers at once: when the first ends, its output must end too, although the second
  // was started while the first one's pipes were open.
  auto first = docker::LineProcess::start("/bin/cat", {});
  auto second = docker::LineProcess::start("/bin/cat", {});
  ASSERT_TRUE(first && second);
  (*first)->close_stdin();
  util::Result<std::optional<std::string>> eof = (*first)->read_line(5s);
  ASSERT_TRUE(eof) << "the first child's stdout stayed open: " << eof.error();
  EXPECT_FALSE(*eof);
  EXPECT_TRUE((*second)->running());
}

class EngineTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::optional<std::string> why = docker_skip_reason()) {
      GTEST_SKIP() << *why;
    }
    util::Result<docker::Engine> engine = docker::Engine::open(std::nullopt);
    ASSERT_TRUE(engine) << engine.error();
    m_engine.emplace(std::move(*engine));
    util::Result<docker::BaseImage> base =
        docker::ensure_base_image(*m_engine, {}, [](std::string_view) {});
    ASSERT_TRUE(base) << base.error();
    m_base = *base;
  }
  std::optional<docker::Engine> m_engine;
  docker::BaseImage m_base;
};

TEST_F(EngineTest, TheBaseImageIsThereUnderBothNames) {
  EXPECT_EQ(m_base.name, "lupa-base:bookworm");
  EXPECT_EQ(m_base.id.rfind("sha256:", 0), 0u) << m_base.id;
  util::Result<std::optional<std::string>> loupe = m_engine->image_id(docker::k_loupe_base_image);
  ASSERT_TRUE(loupe) << loupe.error();
  EXPECT_EQ(*loupe, m_base.id) << "Loupe's Dockerfiles build FROM loupe-base:latest";
  util::Result<std::optional<std::string>> none = m_engine->image_id("lupa-test/no-such-image:1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(EngineTest, ContainersRunWithLoopbackOnlyAndAreRemoved) {
  docker::ContainerSpec spec;
  spec.image = m_base.name;
  spec.name = fmt::format("lupa-test-engine-{}", ::getpid());
  spec.command = {"/bin/sh", "-c", "cat /proc/net/dev | grep -c ':' ; id -u"};
  util::Result<docker::ProcessOutput> out = m_engine->run(spec, 60s);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(out->exit_code, 0) << out->err;
  EXPECT_EQ(out->out, "1\n0\n") << "only lo with --network none; root inside";
  docker::ProcessOutput ps = run(k_docker, {"ps", "-aq", "--filter", "name=" + spec.name});
  EXPECT_EQ(ps.out, "") << "the container was removed";
}

TEST_F(EngineTest, ABrokenBuildQuotesTheBuild) {
  util::TempDir context("lupa-test-broken-build");
  ASSERT_TRUE(util::write_file_atomic(context.path() / "Dockerfile",
                                      "FROM lupa-base:bookworm\nRUN echo about to fail && false\n"));
  docker::BuildSpec spec{context.path(), context.path() / "Dockerfile", "lupa-test/broken:1", {}};
  util::Result<std::string> id = m_engine->build(spec, [](std::string_view) {});
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().find("docker build of " + (context.path() / "Dockerfile").string() +
                            " failed"),
            std::string::npos)
      << id.error();
  EXPECT_EQ(id.error().find('\n'), std::string::npos) << "one line";
}

TEST(EngineOpen, AStoppedEngineIsNamedWithAHint) {
  ::setenv("DOCKER_HOST", "unix:///nonexistent/lupa-test.sock", 1);
  util::Result<docker::Engine> engine = docker::Engine::open(docker::EngineKind::docker);
  ::unsetenv("DOCKER_HOST");
  if (!util::is_executable_file(k_docker)) {
    GTEST_SKIP() << "the docker client is not installed";
  }
  ASSERT_FALSE(engine);
  EXPECT_EQ(engine.error(), "dockerd is not running (HINT: start it with `dockerd &` as root, or run "
                            "scripts/install-deps.sh)");
}

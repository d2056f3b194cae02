// eBPF discovery of an app in a real Docker container (image built FROM scratch around the
// static test program, no registry): the app's tree from its exec by the container's init
// (the runner's case: "the app started by P as binary B"), and the whole container cgroup.
#include "core/syscalls.h"
#include "tracer/cgroup.h"
#include "tracer/discovery.h"
#include "util/strings.h"

#include "inttest_util.h"
#include "strace_discovery.h"

#include <gtest/gtest.h>

#include <csignal>

using namespace tracer;
using namespace lupa_test;

namespace {

const char* k_docker = "/usr/bin/docker";

class DockerTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::optional<std::string> reason = ebpf_skip_reason()) {
      GTEST_SKIP() << *reason;
    }
    if (!util::is_executable_file(k_docker) || run_capture({k_docker, "info"}).status != 0) {
      GTEST_SKIP() << "Docker is not installed or dockerd is not running";
    }
    m_image = fmt::format("lupa-test-tracer-{}", ::getpid());
    util::TempDir context("lupa-test-tracer-image");
    std::filesystem::copy_file(LUPA_TRACEE, context.path() / "tracee");
    ASSERT_TRUE(util::write_file_atomic(context.path() / "Dockerfile",
                                        "FROM scratch\nCOPY tracee /tracee\n"));
    ::setenv("DOCKER_BUILDKIT", "1", 1);
    Captured build = run_capture({k_docker, "build", "-q", "-t", m_image, context.path().string()});
    ASSERT_EQ(build.status, 0) << build.err;
    m_built = true;
  }
  void TearDown() override {
    for (const std::string& name : m_containers) {
      run_capture({k_docker, "rm", "-f", name});
    }
    if (m_built) {
      run_capture({k_docker, "rmi", "-f", m_image});
    }
  }

  // Starts `/tracee launch /tracee work N` detached; its init's host pid.
  pid_t start_container(const std::string& name, long n) {
    Captured run = run_capture({k_docker, "run", "-d", "--network", "none", "--name", name, m_image,
                                "/tracee", "launch", "/tracee", "work", std::to_string(n)});
    EXPECT_EQ(run.status, 0) << run.err;
    m_containers.push_back(name);
    util::Result<pid_t> pid = container_init_pid(name, Engine::docker);
    EXPECT_TRUE(pid) << pid.error();
    return pid.value_or(-1);
  }

  // Measures `scope` while container `name` (init pid `init`) runs its app to the end.
  TraceReport measure(const Scope& scope, pid_t init, const std::string& name) {
    util::Result<std::unique_ptr<EbpfDiscovery>> d = EbpfDiscovery::start(scope);
    EXPECT_TRUE(d) << d.error();
    if (!d) {
      return {};
    }
    EXPECT_EQ(::kill(init, SIGUSR1), 0);
    Captured wait = run_capture({k_docker, "wait", name});
    EXPECT_EQ(util::trim(wait.out), "0") << wait.err;
    util::Result<TraceReport> report = (*d)->finish();
    EXPECT_TRUE(report) << report.error();
    return report.value_or(TraceReport{});
  }

  std::string m_image;
  bool m_built = false;
  std::vector<std::string> m_containers;
};

} // namespace

TEST_F(DockerTest, AppStartedByTheContainersInitEqualsStrace) {
  const std::string name = m_image + "-app";
  pid_t init = start_container(name, 2000);
  ASSERT_GT(init, 0);
  Scope scope;
  util::Result<Cgroup> cgroup = cgroup_of_pid(init);
  ASSERT_TRUE(cgroup) << cgroup.error();
  EXPECT_GT(cgroup->level, 0U) << cgroup->relative;
  scope.cgroup = *cgroup;
  util::Result<BinaryId> binary = BinaryId::of(fmt::format("/proc/{}/root/tracee", init));
  ASSERT_TRUE(binary) << binary.error();
  scope.exec_trigger = ExecTrigger{init, *binary};

  TraceReport report = measure(scope, init, name);
  const core::Discovery& found = report.discovery;
  EXPECT_TRUE(found.complete) << found.incomplete_reason;
  EXPECT_EQ(report.triggers, 1U);

  // The same static program run on the host under strace makes exactly these calls; the
  // init's own (sigwait, clone, wait4) are not counted.
  util::Result<core::Discovery> reference = strace_discovery({LUPA_TRACEE, "work", "2000"});
  ASSERT_TRUE(reference) << reference.error();
  EXPECT_EQ(found.counts, reference->counts)
      << util::join(set_differences(found, *reference), "\n");
  EXPECT_EQ(found.features, reference->features);
  EXPECT_TRUE(set_differences(found, *reference).empty());
  EXPECT_FALSE(found.counts.contains(nr_of("rt_sigtimedwait")));
  for (const ProcessCounts& p : report.processes) {
    EXPECT_NE(p.tgid, static_cast<uint32_t>(init));
  }
}

TEST_F(DockerTest, WholeContainerCgroup) {
  const std::string name = m_image + "-cgroup";
  pid_t init = start_container(name, 1500);
  ASSERT_GT(init, 0);
  util::Result<Cgroup> cgroup = container_cgroup(name, Engine::docker);
  ASSERT_TRUE(cgroup) << cgroup.error();
  Scope scope;
  scope.cgroup = *cgroup;
  TraceReport report = measure(scope, init, name);
  const core::Discovery& found = report.discovery;
  EXPECT_TRUE(found.complete) << found.incomplete_reason;
  EXPECT_EQ(found.counts.at(nr_of("getppid")), 3000U);
  // Now the init is counted too: it forked the app and waited for it.
  bool init_seen = false;
  for (const ProcessCounts& p : report.processes) {
    if (p.tgid == static_cast<uint32_t>(init)) {
      init_seen = true;
      EXPECT_TRUE(p.counts.contains(nr_of("wait4")));
    }
  }
  EXPECT_TRUE(init_seen);
}

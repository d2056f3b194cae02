// nginx from Debian under wrk: the whole pipeline (baseline, discovery, exploration) on a real
// server. accept4 stubbed must be found to work (nginx falls back to accept), and group testing
// must reach exactly the one-at-a-time verdicts. A subset of nginx's syscalls keeps it short;
// bench/explore_nginx.sh explores them all.

#include "core/syscalls.h"
#include "explorer/baseline.h"
#include "explorer/discovery.h"
#include "explorer/local_worker.h"
#include "explorer/spawn.h"
#include "explorer/strategy.h"

#include "explorer_testutil.h"

#include <gtest/gtest.h>

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

using namespace explorer;

namespace {

constexpr int k_port = 18081;

// Calls nginx makes at startup and while serving; some can go, some cannot.
const std::vector<int> k_subset = {SYS_accept4, SYS_close,  SYS_getpid, SYS_sendfile,
                                   SYS_writev,  SYS_ioctl,  SYS_prctl,  SYS_getrandom,
                                   SYS_umask,   SYS_geteuid};

std::string verdicts(const core::ExploreResult& result, const std::vector<int>& subset) {
  std::string out;
  for (int nr : subset) {
    if (const core::SyscallResult* s = result.find(nr)) {
      out += fmt::format("{}: stub {}, fake {}\n", s->name, core::to_string(s->stub.merged()),
                         core::to_string(s->fake.merged()));
    }
  }
  return out;
}

} // namespace

class Nginx : public testing::Test {
protected:
  void SetUp() override {
    if (std::string why = lupa_test::nginx_unavailable(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    lupa_test::NginxSetup nginx = lupa_test::nginx_setup(m_dir.path() / "nginx", k_port);
    m_config.binary = nginx.binary;
    m_config.args = nginx.args;
    m_config.test_script = nginx.test_script;
    m_config.scratch = m_dir.path();
  }

  void TearDown() override {
    EXPECT_FALSE(lupa_test::process_running("nginx: master process /usr/sbin/nginx -p " +
                                            (m_dir.path() / "nginx").string()))
        << "no nginx may survive a probe";
  }

  util::TempDir m_dir{"lupa-test-nginx"};
  AppConfig m_config;
};

TEST_F(Nginx, GroupTestingFindsTheOneAtATimeVerdicts) {
  LocalWorker worker(m_config, "nginx");
  util::Result<Baseline> baseline = check_baseline(worker, m_config);
  ASSERT_TRUE(baseline) << baseline.error();
  EXPECT_EQ(baseline->ports, std::vector<int>{k_port});
  EXPECT_GE(baseline->processes, 2) << "master and worker";

  DiscoveryOptions discovery_options;
  discovery_options.expect_ports = baseline->ports;
  discovery_options.expect_processes = baseline->processes;
  util::Result<core::Discovery> discovery = discover(m_config, discovery_options);
  ASSERT_TRUE(discovery) << discovery.error();
  for (int nr : {SYS_accept4, SYS_epoll_wait, SYS_listen}) {
    EXPECT_TRUE(discovery->counts.contains(nr)) << core::SyscallTable::get().name(nr);
  }
  EXPECT_FALSE(discovery->startup.contains(SYS_accept4)) << "accept4 serves wrk's requests";
  std::vector<int> subset;
  for (int nr : k_subset) {
    if (discovery->counts.contains(nr)) {
      subset.push_back(nr);
    }
  }
  ASSERT_GE(subset.size(), 8u);

  WorkerPool pool;
  pool.push_back(std::make_unique<LocalWorker>(m_config, "nginx"));
  ExploreOptions options;
  options.only_syscalls = subset;
  options.parts.features = false; // whole syscalls only: the next test goes below them
  options.parts.paths = false;
  options.parts.collective = false;
  options.expect_ports = baseline->ports;
  options.expect_processes = baseline->processes;
  options.strategy = Strategy::loupe; // one at a time (with readiness detection)
  core::ExploreResult one_at_a_time = explore(*discovery, pool, options);
  options.strategy = Strategy::group;
  options.screening = Screening::yes;
  core::ExploreResult group = explore(*discovery, pool, options);

  EXPECT_EQ(verdicts(group, subset), verdicts(one_at_a_time, subset));
  const core::SyscallResult* accept4 = group.find(SYS_accept4);
  ASSERT_NE(accept4, nullptr);
  EXPECT_EQ(accept4->stub.merged(), core::Verdict::works)
      << "nginx falls back to accept when accept4 is missing";
  EXPECT_EQ(accept4->fake.merged(), core::Verdict::fails) << "a faked accept4 returns fd 0";
  EXPECT_EQ(group.find(SYS_writev)->stub.merged(), core::Verdict::fails);
  EXPECT_EQ(group.find(SYS_getpid)->stub.merged(), core::Verdict::works);
  RecordProperty("one_at_a_time_runs", std::to_string(one_at_a_time.stats.probe_runs));
  RecordProperty("group_runs", std::to_string(group.stats.probe_runs));
  std::cout << "nginx subset of " << subset.size() << " syscalls: one at a time "
            << one_at_a_time.stats.probe_runs << " runs, "
            << one_at_a_time.stats.step_seconds["exploration"] << " s; group "
            << group.stats.probe_runs << " runs, " << group.stats.step_seconds["exploration"]
            << " s\n";
}

TEST_F(Nginx, SubFeaturesAndPseudoFilesGetOneAtATimeVerdictsAndHoldTogether) {
  if (!can_isolate_network()) {
    GTEST_SKIP() << "each probe needs its own network namespace (CAP_SYS_ADMIN): a faked "
                    "SO_REUSEADDR works on a fresh port only";
  }
  m_config.net = NetIsolation::per_run;
  LocalWorker worker(m_config, "nginx");
  util::Result<Baseline> baseline = check_baseline(worker, m_config);
  ASSERT_TRUE(baseline) << baseline.error();
  DiscoveryOptions discovery_options;
  discovery_options.expect_ports = baseline->ports;
  discovery_options.expect_processes = baseline->processes;
  util::Result<core::Discovery> discovery = discover(m_config, discovery_options);
  ASSERT_TRUE(discovery) << discovery.error();
  core::FeatureKey reuseaddr{SYS_setsockopt, 1,         SOL_SOCKET, 0xffffffff, 2,
                             SO_REUSEADDR,   0xffffffff};
  ASSERT_TRUE(discovery->features.contains(reuseaddr));
  ASSERT_TRUE(discovery->paths.contains("/sys/devices/system/cpu/online")) << "glibc's nprocs";

  WorkerPool pool;
  for (int i = 0; i < 2; ++i) {
    pool.push_back(std::make_unique<LocalWorker>(m_config, fmt::format("nginx-{}", i)));
  }
  ExploreOptions options;
  options.parts.syscalls = false;
  options.only_feature_syscalls = {SYS_ioctl, SYS_fcntl, SYS_setsockopt, SYS_socket, SYS_prctl};
  options.expect_ports = baseline->ports;
  options.expect_processes = baseline->processes;
  options.strategy = Strategy::loupe;
  options.parts.collective = false;
  core::ExploreResult one_at_a_time = explore(*discovery, pool, options);
  options.strategy = Strategy::group;
  options.screening = Screening::yes;
  options.parts.collective = true;
  core::ExploreResult group = explore(*discovery, pool, options);

  auto verdicts = [](const core::ExploreResult& r) {
    std::string out;
    for (const core::FeatureResult& f : r.features) {
      out += fmt::format("{} {} {:#x}: {}/{}\n", f.syscall, f.symbol, f.value,
                         core::to_string(f.stub.merged()), core::to_string(f.fake.merged()));
    }
    for (const core::PathResult& p : r.paths) {
      out += fmt::format("{}: {}/{}\n", p.path, core::to_string(p.enoent.merged()),
                         core::to_string(p.empty.merged()));
    }
    return out;
  };
  EXPECT_EQ(verdicts(group), verdicts(one_at_a_time));
  auto feature = [&](const core::FeatureKey& key) {
    auto it = std::find_if(group.features.begin(), group.features.end(),
                           [&](const core::FeatureResult& f) { return f.key() == key; });
    return it == group.features.end() ? nullptr : &*it;
  };
  const core::FeatureResult* reuse = feature(reuseaddr);
  ASSERT_NE(reuse, nullptr);
  EXPECT_EQ(reuse->symbol, "SOL_SOCKET:SO_REUSEADDR");
  EXPECT_EQ(reuse->stub.merged(), core::Verdict::fails) << "nginx stops when it cannot set it";
  EXPECT_EQ(reuse->fake.merged(), core::Verdict::works) << "a fresh port needs no reuse";
  const core::FeatureResult* fionbio = feature({SYS_ioctl, 1, FIONBIO, 0xffffffff});
  ASSERT_NE(fionbio, nullptr);
  EXPECT_EQ(fionbio->stub.merged(), core::Verdict::fails) << "ngx_nonblocking() checks it";
  const core::FeatureResult* mmap_read = feature({SYS_mmap, 2, PROT_READ, PROT_READ});
  ASSERT_NE(mmap_read, nullptr);
  EXPECT_EQ(mmap_read->stub.merged(), core::Verdict::untested) << "not in only_feature_syscalls";
  EXPECT_TRUE(group.collective.ran);
  EXPECT_EQ(group.collective.final_works, true);
  std::cout << "nginx: " << group.features.size() << " sub-features ("
            << options.only_feature_syscalls.size() << " syscalls explored), " << group.paths.size()
            << " pseudo-files; one at a time " << one_at_a_time.stats.probe_runs << " runs, "
            << one_at_a_time.stats.step_seconds["exploration"] << " s; group "
            << group.stats.probe_runs << " runs, " << group.stats.step_seconds["exploration"]
            << " s; collective " << (group.collective.conflicts.empty() ? "held" : "conflicts")
            << " in " << group.collective.runs << " runs\n";
}

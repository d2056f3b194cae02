// Readiness detection's pieces that need no process: /proc/net parsing and the decision rule.

#include "explorer/procfs.h"
#include "explorer/readiness.h"

#include "util/fs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

using namespace explorer;
using std::chrono::milliseconds;

TEST(ProcNet, FindsListeningTcpSocketsAndTheirPorts) {
  const char* tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:4E98 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 123456 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:4E98 0100007F:B1C2 01 00000000:00000000 00:00000000 00000000     0        "
      "0 123999 1 0000000000000000 20 4 30 10 -1\n"
      "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 777 1 0000000000000000 100 0 0 10 0\n";
  std::vector<ListeningSocket> found = parse_proc_net_inet(tcp, NetTable::tcp);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], (ListeningSocket{123456, 20120}));
  EXPECT_EQ(found[1], (ListeningSocket{777, 22}));
}

TEST(ProcNet, ReadsTcp6AndBoundUdp) {
  const char* tcp6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 "
      "0\n";
  EXPECT_EQ(parse_proc_net_inet(tcp6, NetTable::tcp), (std::vector<ListeningSocket>{{4242, 8080}}));
  const char* udp =
      "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode ref pointer drops\n"
      "  101: 00000000:2BCB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        "
      "0 9191 2 0000000000000000 0\n";
  EXPECT_EQ(parse_proc_net_inet(udp, NetTable::udp), (std::vector<ListeningSocket>{{9191, 11211}}));
  EXPECT_TRUE(parse_proc_net_inet(udp, NetTable::tcp).empty());
}

TEST(ProcNet, FindsListeningUnixSockets) {
  const char* unix_text = "Num       RefCount Protocol Flags    Type St Inode Path\n"
                          "0000000000000000: 00000002 00000000 00010000 0001 01 5555 /run/app.sock\n"
                          "0000000000000000: 00000003 00000000 00000000 0001 03 6666 /run/x\n";
  EXPECT_EQ(parse_proc_net_unix(unix_text), (std::vector<ListeningSocket>{{5555, 0}}));
}

TEST(ProcNet, IgnoresGarbage) {
  EXPECT_TRUE(parse_proc_net_inet("", NetTable::tcp).empty());
  EXPECT_TRUE(parse_proc_net_inet("header\nnot a line\n 0: zz:zz 0 0A\n", NetTable::tcp).empty());
  EXPECT_TRUE(parse_proc_net_unix("header\n0: 1 2 zz 1 1 x\n").empty());
}

TEST(ProcNet, SeesOurOwnSockets) {
  EXPECT_FALSE(tree_listening({}).any);
  // The kernel adds up a thread's CPU time at scheduler ticks: a test process that just
  // started may not have had one yet. Run past a few ticks first.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  while (std::chrono::steady_clock::now() < until) {
    // busy: clock reads are not optimised away
  }
  TreeActivity self = tree_activity({::getpid()});
  EXPECT_GT(self.cpu_ns, 0u);
  EXPECT_TRUE(self.runnable) << "this thread is running";
}

namespace {
ReadyObservation seen(std::set<int> ports, int processes, int quiet_ms, int satisfied_ms,
                      int waited_ms) {
  return {ports, !ports.empty(), processes, milliseconds(quiet_ms), milliseconds(satisfied_ms),
          milliseconds(waited_ms)};
}
ReadySignature signature(std::set<int> ports, int processes) { return {ports, processes}; }
} // namespace

TEST(ReadyDecision, ReadyWhenItLooksLikeTheBaselineAndSettles) {
  AppConfig config;
  ReadySignature nginx = signature({18080}, 2); // master and worker
  EXPECT_EQ(ready_decision(seen({18080}, 2, 60, 60, 80), nginx, config), true);
  EXPECT_EQ(ready_decision(seen({18080}, 2, 10, 10, 20), nginx, config), std::nullopt)
      << "listening, but a worker may still be dying of its injection";
  EXPECT_EQ(ready_decision(seen({18080}, 2, 0, 600, 700), nginx, config), true)
      << "busy, but looking ready for long enough";
  EXPECT_EQ(ready_decision(seen({18080}, 1, 0, 0, 100), nginx, config), std::nullopt)
      << "the worker is missing";
  EXPECT_EQ(ready_decision(seen({18080}, 1, 600, 0, 700), nginx, config), false)
      << "settled without its worker: not ready";
  EXPECT_EQ(ready_decision(seen({}, 2, 600, 0, 700), nginx, config), false);
  EXPECT_EQ(ready_decision(seen({18080}, 3, 60, 60, 80), nginx, config), true);
  EXPECT_EQ(ready_decision(seen({80}, 2, 0, 0, 10000), signature({18080, 80}, 0), config),
            false)
      << "timeout";
  EXPECT_TRUE(matches(seen({80, 18080}, 2, 0, 0, 0), signature({18080}, 2)));
  EXPECT_FALSE(matches(seen({80}, 2, 0, 0, 0), signature({18080}, 2)));
}

TEST(ReadyDecision, WithoutASignatureListeningAndQuietOrJustQuiet) {
  AppConfig config;
  ReadySignature none;
  EXPECT_EQ(ready_decision(seen({80}, 1, 10, 10, 20), none, config), std::nullopt);
  EXPECT_EQ(ready_decision(seen({80}, 1, 60, 60, 80), none, config), true);
  EXPECT_EQ(ready_decision(seen({}, 1, 300, 300, 320), none, config), std::nullopt)
      << "it may be sleeping before it listens";
  EXPECT_EQ(ready_decision(seen({}, 1, 1050, 1050, 1100), none, config), true)
      << "alive and quiet";
  EXPECT_EQ(ready_decision(seen({}, 1, 0, 0, 10001), none, config), false) << "busy forever";
}

TEST(LogWatch, MatchesCompleteLinesAsTheyGrow) {
  util::TempDir dir("lupa-test-logwatch");
  std::filesystem::path log = dir.path() / "out.log";
  explorer::LogWatch watch(log, "^Ready on port [0-9]+$");
  EXPECT_FALSE(watch.matched()) << "no file yet";
  ASSERT_TRUE(util::write_file_atomic(log, "booting\nReady on port"));
  EXPECT_FALSE(watch.matched()) << "the line is not complete yet";
  std::ofstream(log, std::ios::app) << " 6379\nmore\n";
  EXPECT_TRUE(watch.matched());
  EXPECT_TRUE(watch.matched()) << "stays matched";
}

TEST(LogWatch, BadPatternsAreNamed) {
  util::Result<void> bad = explorer::check_pattern("([a-z", "--ready-log");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("--ready-log: '([a-z' is not a valid regular expression"),
            std::string::npos)
      << bad.error();
  EXPECT_TRUE(explorer::check_pattern("Ready.*accept", "--ready-log"));
}

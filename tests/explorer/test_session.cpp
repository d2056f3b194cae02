// The result files of a run: written all or nothing, and the human summary.

#include "explorer/session.h"
#include "util/fs.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace explorer;

TEST(ResultFiles, AreWrittenTogetherWithNoTemporaryLeft) {
  util::TempDir dir("lupa-test-session");
  std::filesystem::path out = dir.path() / "run" / "data";
  ASSERT_TRUE(write_files_atomically(out, {{"dyn.csv", "a\n"}, {"results.json", "{}\n"}}));
  EXPECT_EQ(util::read_file(out / "dyn.csv").value(), "a\n");
  EXPECT_EQ(util::read_file(out / "results.json").value(), "{}\n");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(out)) {
    ++files;
  }
  EXPECT_EQ(files, 2u);
}

TEST(ResultFiles, FailCleanly) {
  util::TempDir dir("lupa-test-session");
  std::ofstream(dir.path() / "file") << "x";
  util::Result<void> written =
      write_files_atomically(dir.path() / "file" / "data", {{"dyn.csv", "a\n"}});
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().find("cannot create"), std::string::npos) << written.error();
}

TEST(Summary, SortsSyscallsLikeLoupe) {
  core::ExploreResult r;
  r.syscalls = {{0, "read", 5, {{false}}, {{false}}},
                {3, "close", 5, {{false}}, {{true}}},
                {39, "getpid", 1, {{true}}, {{true}}},
                {288, "accept4", 9, {{true}}, {{false}}},
                {14, "rt_sigprocmask", 2, {{true, false}}, {{true, true}}}};
  std::string text = summary_text(r);
  EXPECT_NE(text.find("Used system calls: 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Require an implementation: 1/5\n  read\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Work stubbed (not faked): 1/5\n  accept4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Work faked (not stubbed): 2/5\n  close, rt_sigprocmask\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Work stubbed and faked: 1/5\n  getpid\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Unstable (replicas disagree): 1/5\n  rt_sigprocmask\n"),
            std::string::npos)
      << text;
}

TEST(Summary, ShowsTheDepthAndTheCoverageWarning) {
  core::ExploreResult r;
  r.syscalls = {{0, "read", 5, {{false}}, {{false}}}, {16, "ioctl", 1, {{true}}, {{false}}}};
  core::FeatureResult tcgets{16, "ioctl", 1, 0x5401, 0xffffffff, "TCGETS", 1, {{true}}, {{false}}};
  r.features = {tcgets};
  r.paths = {{"/proc/[pid]/stat", 3, {"openat"}, {{false}}, {{true}}}};
  r.static_syscalls = std::vector<int>{0, 1, 16, 39};
  r.collective.ran = true;
  r.collective.all_stubs_work = false;
  r.collective.all_fakes_work = true;
  r.collective.stubs_and_fakes_work = false;
  core::InjectionSet conflict;
  conflict.stubbed = {16};
  conflict.enoent_paths = {"/proc/self/maps"};
  r.collective.conflicts = {conflict};
  r.collective.left_out.enoent_paths = {"/proc/self/maps"};
  r.collective.final_works = true;
  std::string text = depth_text(r);
  EXPECT_NE(text.find("Sub-features: 1\n  ioctl TCGETS: stub works, fake fails\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  /proc/[pid]/stat: missing fails, empty works\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Static 4 / used 2 / required 1"), std::string::npos) << text;
  EXPECT_NE(text.find("Coverage warning: 2 statically reachable syscalls were never exercised "
                      "by the workload\n  write, getpid\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Collective check: all stubs fails, all fakes works, both fails; 1 "
                      "conflicts\n  conflict: stub{ioctl} missing(/proc/self/maps)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("left out so the rest works together (works): missing(/proc/self/maps)"),
            std::string::npos)
      << text;
  EXPECT_NE(summary_text(r).find(text), std::string::npos);
}

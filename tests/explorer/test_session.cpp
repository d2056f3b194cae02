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

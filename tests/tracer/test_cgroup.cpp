#include "tracer/cgroup.h"

#include <gtest/gtest.h>

#include <unistd.h>

using namespace tracer;

TEST(Cgroup, FindsTheCgroup2MountInMountinfo) {
  const char* mountinfo =
      "25 30 0:22 / /sys rw,nosuid - sysfs sysfs rw\n"
      "33 25 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "34 25 0:29 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(parse_cgroup2_mount(mountinfo), std::filesystem::path("/sys/fs/cgroup/unified"));
  EXPECT_FALSE(parse_cgroup2_mount("33 25 0:28 / /sys/fs/cgroup rw - cgroup cgroup rw\n"));
}

TEST(Cgroup, ReadsTheV2LineOfProcCgroup) {
  EXPECT_EQ(parse_v2_cgroup("4:memory:/docker/abc\n0::/docker/abc\n"), "/docker/abc");
  EXPECT_EQ(parse_v2_cgroup("0::/\n"), "/");
  EXPECT_FALSE(parse_v2_cgroup("4:memory:/x\n"));
}

TEST(Cgroup, ResolvesThisProcessAndRejectsMissingPaths) {
  if (!cgroup2_mount()) {
    GTEST_SKIP() << "cgroup v2 is not mounted here";
  }
  util::Result<Cgroup> mine = cgroup_of_pid(::getpid());
  ASSERT_TRUE(mine) << mine.error();
  EXPECT_NE(mine->id, 0U);
  EXPECT_TRUE(std::filesystem::is_directory(mine->path));

  util::Result<Cgroup> root = cgroup_at("/");
  ASSERT_TRUE(root) << root.error();
  EXPECT_EQ(root->level, 0U);

  util::Result<Cgroup> missing = cgroup_at("/no/such/lupa-cgroup");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("is not a cgroup v2 directory"), std::string::npos);
}

TEST(Cgroup, UnknownProcessIsAClearError) {
  util::Result<Cgroup> none = cgroup_of_pid(999999999);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("process 999999999 does not exist"), std::string::npos);
}

#include "analysis/os_lists.h"
#include "db/layout.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <gtest/gtest.h>

namespace fs = std::filesystem;

TEST(OsLists, ShipsTheElevenListsOfLoupedb) {
  std::vector<std::string> names;
  for (const analysis::OsList& os : analysis::shipped_os_lists()) {
    names.emplace_back(os.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Browsix", "Freebsd", "Fuchsia", "Graphene", "Gvisor",
                                             "Hermitux", "Kerla", "LinuxNoLibc", "Osv", "Unikraft",
                                             "Zephyr"}));
}

TEST(OsLists, ResolvesNamesCaseInsensitivelyAndFiles) {
  auto unikraft = analysis::resolve_supported("unikraft");
  ASSERT_TRUE(unikraft) << unikraft.error();
  EXPECT_EQ(unikraft->source, "Unikraft");
  EXPECT_TRUE(unikraft->numbers.contains(lupa_test::nr_of("brk")));
  auto gvisor = analysis::resolve_supported("Gvisor");
  ASSERT_TRUE(gvisor);
  ASSERT_EQ(gvisor->unknown.size(), 1u); // futimensat: a libc function, not a syscall
  EXPECT_NE(gvisor->unknown[0].find("futimensat"), std::string::npos);

  util::TempDir dir("lupa-test-os");
  fs::path file = dir.path() / "mine.syscalls";
  ASSERT_TRUE(util::write_file_atomic(file, "# my OS\nread\n\nwrite\nnot_a_syscall\n"));
  auto mine = analysis::resolve_supported(file.string());
  ASSERT_TRUE(mine) << mine.error();
  EXPECT_EQ(mine->numbers, (std::set<int>{0, 1}));
  ASSERT_EQ(mine->unknown.size(), 1u);
  EXPECT_NE(mine->unknown[0].find(":5: unknown syscall 'not_a_syscall'"), std::string::npos);

  auto missing = analysis::resolve_supported((dir.path() / "nope.syscalls").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("no such file, and not a shipped OS list"), std::string::npos);
}

// The compiled-in copies read exactly like the published files.
TEST(OsLists, MatchThePublishedFiles) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  for (const analysis::OsList& os : analysis::shipped_os_lists()) {
    auto published = db::read_syscall_list(root / (std::string(os.name) + ".syscalls"));
    ASSERT_TRUE(published) << published.error();
    analysis::SupportedSet shipped = analysis::parse_supported(os.text, os.name);
    EXPECT_EQ(std::vector<int>(shipped.numbers.begin(), shipped.numbers.end()), published->numbers)
        << os.name;
    EXPECT_EQ(shipped.unknown.size(), published->unknown.size()) << os.name;
  }
}

#include "core/dyn_csv.h"

#include <gtest/gtest.h>

using namespace core;

TEST(DynCsv, WritesExclusiveColumns) {
  std::vector<DynRow> rows = {{0, true, false, false}, {1, true, true, false},
                              {2, true, false, true},  {3, true, true, true},
                              {4, false, false, false}};
  EXPECT_EQ(write_dyn_csv(rows), "# syscall, used, works faked, works stubbed, works both\n"
                                 "0,Y,N,N,N\n1,Y,Y,N,N\n2,Y,N,Y,N\n3,Y,N,N,Y\n4,N,N,N,N\n");
}

TEST(DynCsv, RoundTrips) {
  std::vector<DynRow> rows = {{0, true, true, false}, {1, true, false, true}, {2, false, false, false}};
  auto parsed = parse_dyn_csv(write_dyn_csv(rows), "dyn.csv");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->rows, rows);
  EXPECT_TRUE(parsed->warnings.empty());
}

TEST(DynCsv, ToleratesPublishedDrift) {
  // No header, non-exclusive flags, used=N with a flag, no final newline.
  auto parsed = parse_dyn_csv("0,Y,N,N,N\n11,Y,Y,Y,Y\n12,N,Y,N,N", "envoy/dyn.csv");
  ASSERT_TRUE(parsed) << parsed.error();
  ASSERT_EQ(parsed->rows.size(), 3u);
  EXPECT_TRUE(parsed->rows[1].can_fake);
  EXPECT_TRUE(parsed->rows[1].can_stub);
  EXPECT_FALSE(parsed->rows[2].used);
  EXPECT_TRUE(parsed->rows[2].can_fake);
  EXPECT_EQ(parsed->warnings.size(), 3u);
}

TEST(DynCsv, RejectsMalformedRowsNamingFileAndLine) {
  auto bad_flag = parse_dyn_csv("# h\n0,Y,N,N,N\n1,Y,maybe,N,N\n", "app/run/dyn.csv");
  ASSERT_FALSE(bad_flag);
  EXPECT_EQ(bad_flag.error(), "app/run/dyn.csv:3: column 'works faked' must be Y or N, found 'maybe'");
  auto short_row = parse_dyn_csv("0,Y,N\n", "x.csv");
  ASSERT_FALSE(short_row);
  EXPECT_NE(short_row.error().find("x.csv:1: expected 5 columns"), std::string::npos);
  auto bad_nr = parse_dyn_csv("abc,Y,N,N,N\n", "x.csv");
  ASSERT_FALSE(bad_nr);
  EXPECT_NE(bad_nr.error().find("column 'syscall'"), std::string::npos);
  auto repeated = parse_dyn_csv("1,Y,N,N,N\n1,Y,N,N,N\n", "x.csv");
  ASSERT_FALSE(repeated);
  EXPECT_FALSE(parse_dyn_csv("# only a header\n", "x.csv"));
}

TEST(DynCsv, RowsFromResultCoverTheWholeTable) {
  ExploreResult r;
  SyscallResult read;
  read.nr = 0;
  read.stub.runs = {true, true};
  read.fake.runs = {true, false}; // unstable: written as N
  r.syscalls.push_back(read);
  std::vector<DynRow> rows = dyn_rows(r);
  ASSERT_GT(rows.size(), 440u);
  EXPECT_TRUE(rows[0].used);
  EXPECT_TRUE(rows[0].can_stub);
  EXPECT_FALSE(rows[0].can_fake);
  EXPECT_FALSE(rows[1].used);
}

TEST(StaticCsv, ParsesWithoutHeaderOrFinalNewline) {
  auto used = parse_static_csv("0,Y\n1,N\n2,Y", "static_binary.csv");
  ASSERT_TRUE(used) << used.error();
  EXPECT_EQ(*used, (std::vector<int>{0, 2}));
  auto round = parse_static_csv(write_static_csv({3, 435}), "s.csv");
  ASSERT_TRUE(round);
  EXPECT_EQ(*round, (std::vector<int>{3, 435}));
  EXPECT_FALSE(parse_static_csv("0,Y,Y\n", "s.csv"));
}

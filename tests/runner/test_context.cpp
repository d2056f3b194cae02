// Which build-context files are stored with a run: what the Dockerfile copies.

#include "runner/context.h"
#include "util/fs.h"

#include <gtest/gtest.h>

namespace fs = std::filesystem;

TEST(DockerfileSources, CopyAndAddInTheirForms) {
  std::string dockerfile = R"(FROM lupa-base:bookworm
# COPY ignored.txt /nowhere
COPY nginx.conf /etc/nginx/lupa.conf
copy --chown=1000:1000 a.txt b.txt /dst/
ADD https://example.org/x.tar.gz /opt/
ADD ["with space.txt", "/dst/"]
COPY --from=builder /out/app /app
COPY site/ \
     /srv/
RUN echo COPY not-this /x
)";
  EXPECT_EQ(runner::dockerfile_sources(dockerfile),
            (std::vector<std::string>{"nginx.conf", "a.txt", "b.txt", "with space.txt", "site/"}));
}

class ContextTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "nginx.conf", "worker_processes 1;\n"));
    fs::create_directories(m_dir.path() / "site" / "img");
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "site" / "index.html", "ok\n"));
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "site" / "img" / "a.svg", "<svg/>\n"));
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "other.toml", "app = \"x\"\n"));
  }
  util::TempDir m_dir{"lupa-test-context"};
};

TEST_F(ContextTest, OnlyWhatTheDockerfileCopies) {
  util::Result<std::vector<db::RunFile>> files = runner::context_files(
      m_dir.path(), "FROM x\nCOPY nginx.conf /etc/\nCOPY ./site/ /srv/\n", {});
  ASSERT_TRUE(files) << files.error();
  std::vector<std::string> names;
  for (const db::RunFile& f : *files) {
    names.push_back(f.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"nginx.conf", "site/img/a.svg", "site/index.html"}));
  EXPECT_EQ(files->front().content, "worker_processes 1;\n");
}

TEST_F(ContextTest, WildcardsAndExclusions) {
  util::Result<std::vector<db::RunFile>> files =
      runner::context_files(m_dir.path(), "FROM x\nCOPY *.conf *.toml /etc/\n", {"other.toml"});
  ASSERT_TRUE(files) << files.error();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ(files->front().name, "nginx.conf");
}

TEST_F(ContextTest, WhatCannotBeStoredIsNamed) {
  ASSERT_TRUE(util::write_file_atomic(m_dir.path() / "blob.bin", std::string("a\0b", 3)));
  util::Result<std::vector<db::RunFile>> binary =
      runner::context_files(m_dir.path(), "FROM x\nCOPY blob.bin /\n", {});
  ASSERT_FALSE(binary);
  EXPECT_EQ(binary.error(), (m_dir.path() / "blob.bin").string() +
                                ": not a text file; the database stores text recipe files only");
  util::Result<std::vector<db::RunFile>> missing =
      runner::context_files(m_dir.path(), "FROM x\nCOPY gone.conf /\n", {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("the Dockerfile copies 'gone.conf'"), std::string::npos);
}

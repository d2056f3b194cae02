// Loupe-style Dockerfiles: the explore.py call in the image's CMD, in both of Loupe's forms.

#include "runner/loupe_cmd.h"

#include <gtest/gtest.h>

using runner::LoupeCommand;
using runner::parse_loupe_cmd;

TEST(LoupeCmd, ShellFormOfLoupesBenchmarkExample) {
  // What `docker image inspect` gives for Loupe README's nginx CMD (shell form).
  util::Result<LoupeCommand> c = parse_loupe_cmd(
      {"/bin/sh", "-c",
       "/root/explore.py --output-csv -t /root/nginx-test.sh \t\t\t     -b /root/nginx/objs/nginx "
       "\t\t\t     -- -p /root/nginx -g \"daemon off;\""},
      "Dockerfile");
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->workdir);
  EXPECT_TRUE(c->options.output_csv);
  EXPECT_EQ(c->options.app.binary, "/root/nginx/objs/nginx");
  EXPECT_EQ(c->options.app.test_script, std::filesystem::path("/root/nginx-test.sh"));
  EXPECT_EQ(c->options.app.args,
            (std::vector<std::string>{"-p", "/root/nginx", "-g", "daemon off;"}));
  EXPECT_EQ(c->options.app.mode, explorer::Mode::benchmark);
}

TEST(LoupeCmd, TestSuiteWithCdAndOnlyConsider) {
  util::Result<LoupeCommand> c = parse_loupe_cmd(
      {"/bin/sh", "-c",
       "cd /tmp/nginx/nginx-tests && /root/explore.py --output-csv --only-consider "
       "/tmp/nginx/nginx/objs/nginx --timeout 600 --test-sequential -t /root/nginx-test.sh "
       "-b /usr/bin/prove -- -m ."},
      "Dockerfile");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->workdir, "/tmp/nginx/nginx-tests");
  EXPECT_EQ(c->options.app.mode, explorer::Mode::sequential);
  EXPECT_EQ(c->options.app.only_consider, std::filesystem::path("/tmp/nginx/nginx/objs/nginx"));
  EXPECT_EQ(c->options.app.timeout, std::chrono::seconds(600));
  EXPECT_EQ(c->options.app.args, (std::vector<std::string>{"-m", "."}));
}

TEST(LoupeCmd, ExecFormAndPython) {
  util::Result<LoupeCommand> exec =
      parse_loupe_cmd({"/root/explore.py", "-b", "/usr/bin/redis-server", "--", "--port", "7000"},
                      "Dockerfile");
  ASSERT_TRUE(exec) << exec.error();
  EXPECT_EQ(exec->options.app.args, (std::vector<std::string>{"--port", "7000"}));
  util::Result<LoupeCommand> python =
      parse_loupe_cmd({"/bin/sh", "-c", "python3 /root/explore.py -b /bin/true"}, "Dockerfile");
  ASSERT_TRUE(python) << python.error();
  EXPECT_EQ(python->options.app.binary, "/bin/true");
}

TEST(LoupeCmd, WhatIsNotUnderstoodIsNamed) {
  util::Result<LoupeCommand> none = parse_loupe_cmd({}, "apps/x/Dockerfile");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().rfind("apps/x/Dockerfile: CMD: missing", 0), 0u) << none.error();

  util::Result<LoupeCommand> other = parse_loupe_cmd({"/bin/sh", "-c", "nginx -g 'daemon off;'"}, "D");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("D: CMD: 'nginx -g daemon off;' is not understood"),
            std::string::npos)
      << other.error();

  util::Result<LoupeCommand> after =
      parse_loupe_cmd({"/bin/sh", "-c", "/root/explore.py -b /bin/true && echo done"}, "D");
  ASSERT_FALSE(after);
  EXPECT_NE(after.error().find("nothing may follow the explore.py call"), std::string::npos);

  util::Result<LoupeCommand> flags =
      parse_loupe_cmd({"/root/explore.py", "--no-such-flag", "-b", "/bin/true"}, "D");
  ASSERT_FALSE(flags);
  EXPECT_NE(flags.error().find("D: CMD: the explore.py flags are not valid"), std::string::npos)
      << flags.error();

  util::Result<LoupeCommand> quotes = parse_loupe_cmd({"/bin/sh", "-c", "/root/explore.py -b 'x"}, "D");
  ASSERT_FALSE(quotes);
}

TEST(ShellWords, QuotesAndEscapes) {
  util::Result<std::vector<std::string>> w =
      runner::shell_words(R"(a "b c" 'd "e"' f\ g "" "x\"y\\z" 'it'\''s' "*.t")");
  ASSERT_TRUE(w) << w.error();
  EXPECT_EQ(*w, (std::vector<std::string>{"a", "b c", "d \"e\"", "f g", "", "x\"y\\z", "it's",
                                          "*.t"}));
  EXPECT_FALSE(runner::shell_words("say \"unfinished"));
}

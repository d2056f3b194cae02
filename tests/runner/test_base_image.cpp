// The base image's mirror comes from the machine's apt sources (the only network here).

#include "runner/container_worker.h"
#include "docker/base_image.h"
#include "docker/engine.h"

#include <gtest/gtest.h>

#include <algorithm>

TEST(DebianSources, Deb822First) {
  std::vector<std::string> lines = docker::debian_source_lines(
      "deb http://old.example/debian bookworm main\n",
      "Types: deb\n# comment\nURIs: http://deb.debian.org/debian\n"
      "Suites: bookworm\n\nURIs: http://deb.debian.org/debian-security\n",
      "bookworm");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "deb http://deb.debian.org/debian bookworm main");
}

TEST(DebianSources, OneLineStyleWithOptionsAndNoSecurityAsTheRelease) {
  // An old-style security entry names the release's suite, but is not the release.
  EXPECT_EQ(docker::debian_source_lines(
                "# deb http://commented/ x\n"
                "deb http://security.debian.org/debian-security bookworm main\n"
                "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n",
                "", "bookworm"),
            std::vector<std::string>{"deb http://mirror.example/debian bookworm main"});
  EXPECT_TRUE(docker::debian_source_lines("", "", "bookworm").empty());
}

TEST(DebianSources, TheReleaseItsUpdatesAndItsSecurityPocketRetargeted) {
  // This machine's deb822 file: the release and -updates in one stanza, -security in another.
  std::string deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\n"
                       "Suites: trixie trixie-updates\nComponents: main\n"
                       "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                       "Types: deb-src\nURIs: http://src.example/debian\nSuites: trixie\n\n"
                       "Types: deb\nURIs: http://deb.debian.org/debian-security\n"
                       "Suites: trixie-security\nComponents: main\n";
  EXPECT_EQ(docker::debian_source_lines("", deb822, "bookworm"),
            (std::vector<std::string>{
                "deb http://deb.debian.org/debian bookworm main",
                "deb http://deb.debian.org/debian bookworm-updates main",
                "deb http://deb.debian.org/debian-security bookworm-security main"}));
  // One-line style, security first, options and extra components kept.
  std::string list = "deb http://security.debian.org/debian-security bookworm-security main\n"
                     "# deb http://commented/debian bookworm main\n"
                     "deb [arch=amd64] http://mirror.example/debian bookworm main contrib\n";
  EXPECT_EQ(docker::debian_source_lines(list, "", "bookworm"),
            (std::vector<std::string>{
                "deb http://mirror.example/debian bookworm main contrib",
                "deb http://security.debian.org/debian-security bookworm-security main"}));
  EXPECT_TRUE(docker::debian_source_lines("deb-src http://x/debian bookworm main\n", "",
                                          "bookworm")
                  .empty());
}

TEST(BaseImage, NamesAndEngineArguments) {
  docker::BaseImageOptions options;
  EXPECT_EQ(docker::base_image_name(options), "lupa-base:bookworm");
  options.suite = "trixie";
  EXPECT_EQ(docker::base_image_name(options), "lupa-base:trixie");
  EXPECT_EQ(docker::engine_from_string("podman"), docker::EngineKind::podman);
  EXPECT_EQ(docker::engine_from_string("lxc"), std::nullopt);
}

TEST(RunArguments, NoRegistryReadOnlyMountsAndTheCommandLast) {
  docker::ContainerSpec spec;
  spec.image = "lupa-app/nginx:benchmark-wrk";
  spec.name = "lupa-1234-w0";
  spec.entrypoint = "/.lupa/lupa-explore";
  spec.command = {"--worker", "-b", "/usr/sbin/nginx"};
  spec.mounts = {{"/host/lupa-explore", "/.lupa/lupa-explore", true}, {"/data", "/out", false}};
  spec.workdir = "/tmp";
  spec.labels = {{"lupa.run", "1234"}};
  spec.interactive = true;
  spec.cap_add = {"SYS_PTRACE"};
  EXPECT_EQ(docker::run_arguments(spec),
            (std::vector<std::string>{"run", "--rm", "--pull=never", "-i", "--name", "lupa-1234-w0",
                                      "--network", "none", "--cap-add", "SYS_PTRACE", "--label", "lupa.run=1234", "-v",
                                      "/host/lupa-explore:/.lupa/lupa-explore:ro", "-v",
                                      "/data:/out:rw", "-w", "/tmp", "--entrypoint",
                                      "/.lupa/lupa-explore", "lupa-app/nginx:benchmark-wrk",
                                      "--worker", "-b", "/usr/sbin/nginx"}));
  // No capability is added unless asked, and nothing ever runs privileged.
  spec.cap_add.clear();
  std::vector<std::string> plain = docker::run_arguments(spec);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "--cap-add"), 0);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), "--privileged"), 0);
}

TEST(RunArguments, WorkerContainersGetOnlySysPtrace) {
  runner::ContainerSetup setup;
  setup.image = "lupa-app/nginx:benchmark-wrk";
  setup.explorer = "/host/lupa-explore";
  setup.app.binary = "/usr/sbin/nginx";
  docker::ContainerSpec spec = runner::explorer_container(setup, {"--worker"}, "w0");
  EXPECT_EQ(spec.cap_add, std::vector<std::string>{"SYS_PTRACE"});
  std::vector<std::string> args = docker::run_arguments(spec);
  EXPECT_EQ(std::count(args.begin(), args.end(), "--privileged"), 0);
}

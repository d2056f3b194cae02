// The base image's mirror comes from the machine's apt sources (the only network here).

#include "docker/base_image.h"
#include "docker/engine.h"

#include <gtest/gtest.h>

TEST(DebianMirror, Deb822First) {
  EXPECT_EQ(docker::debian_mirror("deb http://old.example/debian bookworm main\n",
                                  "Types: deb\n# comment\nURIs: http://deb.debian.org/debian\n"
                                  "Suites: bookworm\n\nURIs: http://deb.debian.org/debian-security\n"),
            "http://deb.debian.org/debian");
}

TEST(DebianMirror, OneLineStyleWithOptionsAndNoSecurity) {
  EXPECT_EQ(docker::debian_mirror("# deb http://commented/ x\n"
                                  "deb http://security.debian.org/debian-security bookworm main\n"
                                  "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian "
                                  "bookworm main\n",
                                  ""),
            "http://mirror.example/debian");
  EXPECT_EQ(docker::debian_mirror("", ""), "");
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
  EXPECT_EQ(docker::run_arguments(spec),
            (std::vector<std::string>{"run", "--rm", "--pull=never", "-i", "--name", "lupa-1234-w0",
                                      "--network", "none", "--label", "lupa.run=1234", "-v",
                                      "/host/lupa-explore:/.lupa/lupa-explore:ro", "-v",
                                      "/data:/out:rw", "-w", "/tmp", "--entrypoint",
                                      "/.lupa/lupa-explore", "lupa-app/nginx:benchmark-wrk",
                                      "--worker", "-b", "/usr/sbin/nginx"}));
}

#include "synthetic.h"

#include "core/syscalls.h"
#include "util/fs.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <stdexcept>

namespace fs = std::filesystem;

namespace lupa_test {

db::NewRun synthetic_run(const std::string& app, const std::string& workload, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 17);
  db::NewRun run;
  run.app = app;
  run.workload = db::Workload{db::WorkloadKind::benchmark, workload};
  run.dockerfile = {"Dockerfile",
                    fmt::format("FROM lupa-base:bookworm\nRUN apt-get install -y {}\n# seed {}\n"
                                "CMD [\"/usr/sbin/{}\"]\n",
                                app, seed, app)};
  run.recipe = db::RunFile{"recipe.toml", fmt::format("app = \"{}\"\nworkload = \"{}\"\n"
                                                      "binary = \"/usr/sbin/{}\"\n",
                                                      app, workload, app)};
  run.test_script = db::RunFile{"test.sh", "#!/bin/sh\ncurl -sf http://127.0.0.1/ >/dev/null\n",
                                db::FileMode::executable};
  run.cmd = fmt::format("lupa generate -b --db DB -a {} -w {}", app, workload);

  core::ExploreResult& r = run.result;
  r.lupa_version = "0.1.0";
  r.binary = "/usr/sbin/" + app;
  r.args = {"-g", "daemon off;"};
  r.mode = "benchmark";
  r.strategy = "group";
  r.discovery = "ptrace";
  r.replicas = 2;
  const core::SyscallTable& table = core::SyscallTable::get();
  size_t used = 40 + rng() % 50;
  std::vector<int> numbers = table.all();
  std::shuffle(numbers.begin(), numbers.end(), rng);
  numbers.resize(std::min(used, numbers.size()));
  std::sort(numbers.begin(), numbers.end());
  for (int nr : numbers) {
    core::SyscallResult s;
    s.nr = nr;
    s.name = table.name(nr);
    s.count = 1 + rng() % 10000;
    bool stub = rng() % 3 == 0;
    bool fake = rng() % 3 == 0;
    s.stub.runs = {stub, stub};
    s.fake.runs = {fake, fake};
    r.syscalls.push_back(std::move(s));
  }
  if (!r.syscalls.empty()) {
    core::FeatureResult f;
    f.nr = r.syscalls.front().nr;
    f.syscall = r.syscalls.front().name;
    f.arg = 1;
    f.value = 0x5401 + seed % 7;
    f.symbol = "TCGETS";
    f.count = 3;
    f.stub.runs = {true, true};
    f.fake.runs = {false, true};
    r.features.push_back(f);
  }
  core::PathResult p;
  p.path = "/proc/self/status";
  p.count = 2;
  p.syscalls = {"openat", "read"};
  p.enoent.runs = {true, true};
  p.empty.runs = {false, false};
  r.paths.push_back(p);
  r.static_syscalls = numbers;
  r.static_syscalls->push_back(table.number("execve").value_or(59));
  std::sort(r.static_syscalls->begin(), r.static_syscalls->end());
  r.static_syscalls->erase(std::unique(r.static_syscalls->begin(), r.static_syscalls->end()),
                           r.static_syscalls->end());
  r.stats.probe_runs = 10 + rng() % 100;

  db::Provenance& prov = run.provenance;
  prov.lupa_version = "0.1.0";
  prov.date = fmt::format("2025-01-{:02}T{:02}:00:00Z", 1 + seed % 28, seed % 24);
  prov.kernel_release = "6.18.0";
  prov.machine = "x86_64";
  prov.engine = "docker";
  prov.engine_version = "20.10.24";
  prov.base_image = "lupa-base:bookworm";
  prov.base_image_digest = "sha256:" + std::string(64, 'a');
  prov.app_image = "lupa-" + app;
  prov.app_image_digest = fmt::format("sha256:{:064x}", seed);
  prov.timings = {{"build", 8.5}, {"exploration", 30.0 + seed % 10}};
  return run;
}

fs::path write_run_dir(const fs::path& root, const db::NewRun& run) {
  auto files = db::render_run(run);
  if (!files) {
    throw std::runtime_error(files.error());
  }
  fs::path dir = root / files->key();
  for (const auto& [path, file] : files->files) {
    fs::create_directories((dir / path).parent_path());
    std::ofstream out(dir / path, std::ios::binary | std::ios::trunc); // no fsync: scratch data
    out << file.content;
    if (!out) {
      throw std::runtime_error("cannot write " + (dir / path).string());
    }
    if (file.mode == db::FileMode::executable) {
      fs::permissions(dir / path, fs::perms::owner_exec, fs::perm_options::add);
    }
  }
  return dir;
}

size_t write_synthetic_tree(const fs::path& root, size_t runs, size_t runs_per_app) {
  fs::create_directories(root);
  for (size_t i = 0; i < runs; ++i) {
    std::string app = fmt::format("app{:05}", i / runs_per_app);
    std::string workload = fmt::format("w{}", i % 2);
    write_run_dir(root, synthetic_run(app, workload, i));
  }
  (void)util::write_file_atomic(root / "Linux.syscalls", "read\nwrite\nopenat\nclose\n");
  (void)util::write_file_atomic(root / "Tiny.syscalls", "read\nwrite\nexit_group\n");
  return runs;
}

} // namespace lupa_test

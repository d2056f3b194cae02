#include "runner/reproduce.h"

#include "util/fs.h"

#include <fmt/format.h>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace runner {

namespace {

util::Result<void> write_run_file(const fs::path& dir, const db::RunFile& file) {
  fs::path path = (dir / file.name).lexically_normal();
  if (!db::is_safe_path(file.name)) {
    return util::error(fmt::format("stored file '{}' has an unsafe name", file.name));
  }
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  TRY(util::write_file_atomic(path, file.content));
  ::chmod(path.c_str(), file.mode == db::FileMode::executable ? 0755 : 0644);
  return {};
}

} // namespace

util::Result<db::NewRun> ContainerProducer::produce(const db::NewRun& stored) {
  util::TempDir context("lupa-reproduce");
  TRY(write_run_file(context.path(), stored.dockerfile));
  for (const db::RunFile& f : stored.context) {
    TRY(write_run_file(context.path(), f));
  }
  GenerateOptions o = m_options;
  o.commit = false;
  o.cmd = stored.cmd;
  if (stored.recipe) {
    TRY(write_run_file(context.path(), *stored.recipe));
    if (stored.test_script) {
      TRY(write_run_file(context.path(), *stored.test_script));
    }
    o.recipe = context.path() / stored.recipe->name;
    o.dockerfile.reset();
  } else {
    o.recipe.reset();
    o.dockerfile = context.path() / stored.dockerfile.name;
    o.app = stored.app;
    o.workload = stored.workload;
  }
  // The same experiment: the stored strategy and replicas (both part of the run id).
  o.strategy = explorer::strategy_from_string(stored.result.strategy);
  o.replicas = static_cast<unsigned>(stored.result.replicas);
  if (stored.result.discovery == "ptrace") {
    o.discovery = DiscoveryBackend::ptrace;
  } else if (stored.result.discovery == "ebpf" && o.discovery == DiscoveryBackend::automatic) {
    o.discovery = DiscoveryBackend::ebpf;
  }
  for (const core::SyscallResult& s : stored.result.syscalls) {
    if (!s.stub.runs.empty() || !s.fake.runs.empty()) {
      continue;
    }
    // A partial exploration: explore the same subset.
    o.only_syscalls.clear();
    for (const core::SyscallResult& t : stored.result.syscalls) {
      if (!t.stub.runs.empty() || !t.fake.runs.empty()) {
        o.only_syscalls.push_back(t.name);
      }
    }
    break;
  }
  TRY_ASSIGN(GenerateResult result, generate(o));
  return std::move(result.run);
}

} // namespace runner

#include "analysis/subprocess.h"

#include "util/fs.h"

#include <boost/process.hpp>
#include <fmt/format.h>

#include <thread>

namespace bp = boost::process;
namespace fs = std::filesystem;

namespace analysis {

util::Result<ProcessResult> run_process(const fs::path& program,
                                        const std::vector<std::string>& args,
                                        std::chrono::seconds timeout, const fs::path& cwd) {
  // Output goes to a scratch file: no pipe to drain while waiting, nothing lost at a kill.
  util::TempDir scratch("lupa-proc");
  fs::path log = scratch.path() / "output";
  ProcessResult result;
  try {
    std::error_code ec;
    bp::child child(program.string(), bp::args(args),
                    bp::std_in<bp::null, (bp::std_out & bp::std_err)> log.string(),
                    bp::start_dir(cwd.empty() ? fs::current_path().string() : cwd.string()), ec);
    if (ec) {
      return util::error(fmt::format("cannot run {}: {}", program.string(), ec.message()));
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (child.running(ec) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (child.running(ec)) {
      child.terminate(ec);
      result.timed_out = true;
    } else {
      child.wait(ec);
      result.exit_code = child.exit_code();
    }
  } catch (const bp::process_error& e) {
    return util::error(fmt::format("cannot run {}: {}", program.string(), e.what()));
  }
  if (util::Result<std::string> text = util::read_file(log)) {
    result.output = std::move(*text);
  }
  return result;
}

util::Result<fs::path> find_program(const std::string& program, const std::string& hint) {
  if (program.find('/') != std::string::npos) {
    if (util::is_executable_file(program)) {
      return fs::path(program);
    }
    return util::error(fmt::format("{}: not an executable file ({})", program, hint));
  }
  fs::path found = util::find_in_path(program);
  if (found.empty()) {
    return util::error(fmt::format("{} not found in PATH ({})", program, hint));
  }
  return found;
}

} // namespace analysis

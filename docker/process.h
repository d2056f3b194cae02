#pragma once
// Running the container engine and other programs with Boost.Process: to completion with
// their output collected (or streamed line by line), or kept running with a line protocol on
// stdin/stdout (the container workers). Every wait has a deadline and honours Ctrl-C
// (explorer/cancel.h); a child still running when its handle goes away is killed.

#include "util/error.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace docker {

// How a program run to completion ended.
struct ProcessOutput {
  int exit_code = -1;  // -1 when killed (timeout or interruption)
  bool timed_out = false;
  std::string out;     // stdout (only when not streamed)
  std::string err;     // stderr (only when not streamed)
};

// Receives one line of output (without its newline).
using LineSink = std::function<void(std::string_view line)>;

struct RunSpec {
  std::filesystem::path program;
  std::vector<std::string> args;
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::optional<std::string> input; // written to stdin, then closed (else stdin is empty)
  // When set, stdout and stderr go to it line by line, interleaved, and the output fields
  // of the result hold the last 20 lines (for error messages).
  LineSink on_line;
  // Whether Ctrl-C stops it (not for cleanup commands, which must run after a Ctrl-C).
  bool cancellable = true;
};

// Runs `spec` to completion. Fails only when the program cannot be started; a non-zero exit
// or a timeout is in the result. Ctrl-C kills the program and throws util::Fatal.
util::Result<ProcessOutput> run_program(const RunSpec& spec);

// A program kept running: lines written to its stdin, lines read from its stdout (by a reader
// thread, so waits have deadlines), stderr collected in memory (its last lines kept).
class LineProcess {
public:
  // Starts `program` with `args`.
  static util::Result<std::unique_ptr<LineProcess>> start(const std::filesystem::path& program,
                                                          const std::vector<std::string>& args);
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;
  // Kills the program if it still runs.
  ~LineProcess();

  // Writes `line` and a newline to its stdin.
  util::Result<void> write_line(std::string_view line);
  // The next stdout line; nullopt at end of output; an error after `timeout` (the program is
  // left running). Ctrl-C throws util::Fatal.
  util::Result<std::optional<std::string>> read_line(std::chrono::milliseconds timeout);
  // Closes its stdin (a worker exits at end of input).
  void close_stdin();
  // Waits up to `timeout` for the program to exit, then kills it; returns its exit code
  // (-1 when killed).
  int finish(std::chrono::milliseconds timeout);
  // The last lines it wrote to stderr, joined by "; " (for error messages).
  std::string stderr_tail() const;
  // True while it runs.
  bool running();

private:
  struct Impl;
  explicit LineProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The last `n` non-empty lines of `text`, joined by "; ".
std::string last_lines(std::string_view text, size_t n);

} // namespace docker

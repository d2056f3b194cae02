#include "docker/process.h"

#include "explorer/cancel.h"
#include "util/strings.h"

#include <boost/process.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace bp = boost::process;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace docker {

namespace {

constexpr size_t k_tail_lines = 20;

// Lines kept from the end of a stream.
class Tail {
public:
  void add(std::string line) {
    std::lock_guard lock(m_mutex);
    m_lines.push_back(std::move(line));
    if (m_lines.size() > k_tail_lines) {
      m_lines.pop_front();
    }
  }
  std::string text() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    for (const std::string& line : m_lines) {
      out += line + "\n";
    }
    return out;
  }

private:
  mutable std::mutex m_mutex;
  std::deque<std::string> m_lines;
};

void strip_cr(std::string& line) {
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
}

// A pipe whose two ends are close-on-exec, so that a child inherits only the ends dup2'ed
// onto its stdin/stdout/stderr, never another child's (a second docker client holding the
// first one's stdout open would keep that pipe from ever reaching end of file). Boost.Process
// 1.74 makes plain pipe(2)s, and its limit_handles breaks the child's standard streams.
bp::pipe cloexec_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw util::SystemError("pipe2");
  }
  return bp::pipe(fds[0], fds[1]);
}

// Kills `child` (SIGKILL) and reaps it.
void kill_child(bp::child& child) {
  std::error_code ec;
  if (child.running(ec)) {
    child.terminate(ec);
  }
  child.wait(ec);
}

} // namespace

std::string last_lines(std::string_view text, size_t n) {
  std::vector<std::string> lines;
  for (const std::string& line : util::split(text, '\n')) {
    std::string_view trimmed = util::trim(line);
    if (!trimmed.empty()) {
      lines.emplace_back(trimmed);
    }
  }
  if (lines.size() > n) {
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  }
  return util::join(lines, "; ");
}

util::Result<ProcessOutput> run_program(const RunSpec& spec) {
  ProcessOutput result;
  bp::opstream in(cloexec_pipe());
  bp::ipstream out(cloexec_pipe());
  bp::ipstream err(cloexec_pipe());
  std::error_code ec;
  bp::child child;
  std::string out_text;
  std::string err_text;
  Tail tail;
  std::vector<std::thread> readers;
  try {
    if (spec.on_line) {
      child = bp::child(spec.program.string(), bp::args(spec.args), bp::std_in < in,
                        (bp::std_out & bp::std_err) > out, ec);
    } else {
      child = bp::child(spec.program.string(), bp::args(spec.args), bp::std_in < in,
                        bp::std_out > out, bp::std_err > err, ec);
    }
  } catch (const bp::process_error& e) {
    return util::error(fmt::format("cannot run {}: {}", spec.program.string(), e.what()));
  }
  if (ec) {
    return util::error(fmt::format("cannot run {}: {}", spec.program.string(), ec.message()));
  }
  if (spec.on_line) {
    readers.emplace_back([&] {
      std::string line;
      while (std::getline(out, line)) {
        strip_cr(line);
        spec.on_line(line);
        tail.add(std::move(line));
      }
    });
  } else {
    readers.emplace_back([&] { out_text.assign(std::istreambuf_iterator<char>(out), {}); });
    readers.emplace_back([&] { err_text.assign(std::istreambuf_iterator<char>(err), {}); });
  }
  if (spec.input) {
    in << *spec.input;
    in.flush();
  }
  in.pipe().close();

  Clock::time_point deadline = Clock::now() + spec.timeout;
  bool cancelled = false;
  while (child.running(ec)) {
    if (spec.cancellable && explorer::cancel_requested()) {
      cancelled = true;
      break;
    }
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (cancelled || result.timed_out) {
    kill_child(child);
  } else {
    child.wait(ec);
    result.exit_code = child.exit_code();
  }
  for (std::thread& t : readers) {
    t.join();
  }
  if (cancelled) {
    throw util::Fatal("interrupted");
  }
  if (spec.on_line) {
    result.out = tail.text();
  } else {
    result.out = std::move(out_text);
    result.err = std::move(err_text);
  }
  return result;
}

struct LineProcess::Impl {
  bp::opstream in{cloexec_pipe()};
  bp::ipstream out{cloexec_pipe()};
  bp::ipstream err{cloexec_pipe()};
  bp::child child;
  std::thread out_reader;
  std::thread err_reader;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> lines;
  bool eof = false;
  Tail err_tail;

  ~Impl() {
    kill_child(child);
    if (out_reader.joinable()) {
      out_reader.join();
    }
    if (err_reader.joinable()) {
      err_reader.join();
    }
  }
};

LineProcess::LineProcess(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

LineProcess::~LineProcess() = default;

util::Result<std::unique_ptr<LineProcess>>
LineProcess::start(const fs::path& program, const std::vector<std::string>& args) {
  auto impl = std::make_unique<Impl>();
  std::error_code ec;
  try {
    impl->child = bp::child(program.string(), bp::args(args), bp::std_in < impl->in,
                            bp::std_out > impl->out, bp::std_err > impl->err, ec);
  } catch (const bp::process_error& e) {
    return util::error(fmt::format("cannot run {}: {}", program.string(), e.what()));
  }
  if (ec) {
    return util::error(fmt::format("cannot run {}: {}", program.string(), ec.message()));
  }
  Impl* p = impl.get();
  p->out_reader = std::thread([p] {
    std::string line;
    while (std::getline(p->out, line)) {
      strip_cr(line);
      std::lock_guard lock(p->mutex);
      p->lines.push_back(std::move(line));
      p->cv.notify_all();
    }
    std::lock_guard lock(p->mutex);
    p->eof = true;
    p->cv.notify_all();
  });
  p->err_reader = std::thread([p] {
    std::string line;
    while (std::getline(p->err, line)) {
      strip_cr(line);
      p->err_tail.add(std::move(line));
    }
  });
  return std::unique_ptr<LineProcess>(new LineProcess(std::move(impl)));
}

util::Result<void> LineProcess::write_line(std::string_view line) {
  m_impl->in << line << '\n';
  m_impl->in.flush();
  if (!m_impl->in) {
    return util::error("the program's input is closed (it exited)");
  }
  return {};
}

util::Result<std::optional<std::string>> LineProcess::read_line(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::unique_lock lock(m_impl->mutex);
  for (;;) {
    if (!m_impl->lines.empty()) {
      std::string line = std::move(m_impl->lines.front());
      m_impl->lines.pop_front();
      return std::optional<std::string>(std::move(line));
    }
    if (m_impl->eof) {
      return std::optional<std::string>();
    }
    if (explorer::cancel_requested()) {
      throw util::Fatal("interrupted");
    }
    if (Clock::now() >= deadline) {
      return util::error(fmt::format("no answer within {} s", timeout.count() / 1000));
    }
    m_impl->cv.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void LineProcess::close_stdin() { m_impl->in.pipe().close(); }

int LineProcess::finish(std::chrono::milliseconds timeout) {
  std::error_code ec;
  Clock::time_point deadline = Clock::now() + timeout;
  while (m_impl->child.running(ec) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (m_impl->child.running(ec)) {
    kill_child(m_impl->child);
    return -1;
  }
  m_impl->child.wait(ec);
  return m_impl->child.exit_code();
}

std::string LineProcess::stderr_tail() const { return last_lines(m_impl->err_tail.text(), 5); }

bool LineProcess::running() {
  std::error_code ec;
  return m_impl->child.running(ec);
}

} // namespace docker

#include "explorer/readiness.h"

#include "explorer/cancel.h"
#include "explorer/procfs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

namespace explorer {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Listening and quiet this long: the app finished setting up its sockets.
constexpr milliseconds k_listen_settle{50};
} // namespace

bool matches(const ReadyObservation& seen, const ReadySignature& expected) {
  return std::includes(seen.ports.begin(), seen.ports.end(), expected.ports.begin(),
                       expected.ports.end()) &&
         seen.processes >= expected.processes;
}

std::optional<bool> ready_decision(const ReadyObservation& seen, const ReadySignature& expected,
                                   const AppConfig& config) {
  if (!expected.empty()) {
    if (matches(seen, expected)) {
      // Set up like the baseline; quiet means done (a worker may still die of its
      // injection right after the master listens), busy for long enough means busy serving.
      if (seen.quiet_for >= k_listen_settle || seen.satisfied_for >= config.settle) {
        return true;
      }
    } else if (seen.quiet_for >= config.settle) {
      return false; // settled without looking like a ready app
    }
  } else if (seen.listening ? seen.quiet_for >= k_listen_settle
                            : seen.quiet_for >= config.quiet) {
    return true;
  }
  if (seen.waited >= config.ready_timeout) {
    return false;
  }
  return std::nullopt;
}

util::Result<void> check_pattern(const std::string& pattern, std::string_view field) {
  try {
    std::regex re(pattern);
  } catch (const std::regex_error& e) {
    return util::error(fmt::format("{}: '{}' is not a valid regular expression: {}", field,
                                   pattern, e.what()));
  }
  return {};
}

LogWatch::LogWatch(std::filesystem::path file, const std::string& pattern)
    : m_file(std::move(file)) {
  try {
    m_pattern = std::regex(pattern);
  } catch (const std::regex_error& e) {
    throw util::Fatal(fmt::format("readiness log pattern '{}': {}", pattern, e.what()));
  }
}

bool LogWatch::matched() {
  if (m_matched) {
    return true;
  }
  int fd = ::open(m_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char buffer[8192];
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, static_cast<off_t>(m_offset));
    if (n <= 0) {
      break;
    }
    m_offset += static_cast<uint64_t>(n);
    m_partial.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t eol = m_partial.find('\n'); eol != std::string::npos;
         eol = m_partial.find('\n', start)) {
      if (std::regex_search(m_partial.begin() + static_cast<std::ptrdiff_t>(start),
                            m_partial.begin() + static_cast<std::ptrdiff_t>(eol), m_pattern)) {
        m_matched = true;
      }
      start = eol + 1;
    }
    m_partial.erase(0, start);
    if (m_matched) {
      break;
    }
  }
  ::close(fd);
  return m_matched;
}

ReadyResult wait_ready(ProcessTree& tree, ReadySignature expected, const AppConfig& config,
                       const std::filesystem::path& output) {
  if (config.ready_port) {
    expected.ports.insert(*config.ready_port);
  }
  std::optional<LogWatch> log;
  if (config.ready_log) {
    log.emplace(output, *config.ready_log);
  }
  Clock::time_point start = Clock::now();
  Clock::time_point quiet_since = start;
  Clock::time_point satisfied_since = start;
  bool satisfied = false;
  uint64_t last_cpu = 0;
  std::vector<pid_t> last_members;
  ReadyResult result;
  for (;;) {
    throw_if_cancelled();
    milliseconds waited = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    // Poll often while apps usually start, less later.
    tree.poll(waited < milliseconds(300) ? milliseconds(3) : milliseconds(15));
    if (tree.empty()) {
      result.state = ReadyState::exited;
      return result;
    }
    std::vector<pid_t> members = tree.members();
    if (members.empty()) {
      continue; // between an exit and the reaper's news
    }
    std::sort(members.begin(), members.end());
    TreeActivity activity = tree_activity(members);
    uint64_t cpu = activity.cpu_ns;
    Clock::time_point now = Clock::now();
    if (activity.runnable || cpu != last_cpu || members != last_members) {
      quiet_since = now;
      last_cpu = cpu;
      last_members = members;
    }
    TreeListening listening = tree_listening(members);
    if (log) {
      // Ready when the line appears; given up on at the timeout.
      bool ready = log->matched();
      if (ready || now - start >= config.ready_timeout) {
        result.state = ready ? ReadyState::ready : ReadyState::not_ready;
        result.ports = std::move(listening.ports);
        result.processes = static_cast<int>(members.size());
        return result;
      }
      continue;
    }
    ReadyObservation seen{listening.ports, listening.any, static_cast<int>(members.size()),
                          std::chrono::duration_cast<milliseconds>(now - quiet_since),
                          milliseconds(0), std::chrono::duration_cast<milliseconds>(now - start)};
    if (!matches(seen, expected)) {
      satisfied = false;
    } else if (!satisfied) {
      satisfied = true;
      satisfied_since = now;
    }
    if (satisfied) {
      seen.satisfied_for = std::chrono::duration_cast<milliseconds>(now - satisfied_since);
    }
    std::optional<bool> decision = ready_decision(seen, expected, config);
    if (decision) {
      result.state = *decision ? ReadyState::ready : ReadyState::not_ready;
      result.ports = std::move(listening.ports);
      result.processes = seen.processes;
      return result;
    }
  }
}

} // namespace explorer

#include "explorer/procfs.h"

#include "util/fs.h"
#include "util/strings.h"

#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <filesystem>

namespace explorer {

namespace {

// `text` split at runs of blanks.
std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
      ++i;
    }
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(text.substr(start, i - start));
    }
  }
  return out;
}

template <typename T> bool parse_number(std::string_view text, T& value, int base = 10) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Calls `line(fields)` for each line of `text` after the header.
template <typename F> void for_each_entry(std::string_view text, F&& line) {
  bool header = true;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    if (!header) {
      line(fields(text.substr(start, end - start)));
    }
    header = false;
    start = end + 1;
  }
}

} // namespace

std::vector<ListeningSocket> parse_proc_net_inet(std::string_view text, NetTable table) {
  std::string_view wanted = table == NetTable::tcp ? "0A" : "07";
  std::vector<ListeningSocket> out;
  for_each_entry(text, [&](const std::vector<std::string_view>& f) {
    if (f.size() < 10 || f[3] != wanted) {
      return;
    }
    size_t colon = f[1].rfind(':');
    ListeningSocket socket;
    if (colon == std::string_view::npos || !parse_number(f[1].substr(colon + 1), socket.port, 16) ||
        !parse_number(f[9], socket.inode)) {
      return;
    }
    out.push_back(socket);
  });
  return out;
}

std::vector<ListeningSocket> parse_proc_net_unix(std::string_view text) {
  constexpr unsigned long k_accept_con = 0x10000; // __SO_ACCEPTCON
  std::vector<ListeningSocket> out;
  for_each_entry(text, [&](const std::vector<std::string_view>& f) {
    unsigned long flags = 0;
    ListeningSocket socket;
    if (f.size() < 7 || !parse_number(f[3], flags, 16) || (flags & k_accept_con) == 0 ||
        !parse_number(f[6], socket.inode)) {
      return;
    }
    out.push_back(socket);
  });
  return out;
}

std::set<uint64_t> socket_inodes(pid_t pid) {
  std::set<uint64_t> inodes;
  std::error_code ec;
  std::filesystem::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    char target[64];
    ssize_t n = ::readlink(it->path().c_str(), target, sizeof(target) - 1);
    if (n <= 0) {
      continue;
    }
    std::string_view link(target, static_cast<size_t>(n));
    uint64_t inode = 0;
    if (link.starts_with("socket:[") && link.ends_with(']') &&
        parse_number(link.substr(8, link.size() - 9), inode)) {
      inodes.insert(inode);
    }
  }
  return inodes;
}

TreeListening tree_listening(const std::vector<pid_t>& pids) {
  TreeListening out;
  if (pids.empty()) {
    return out;
  }
  std::set<uint64_t> owned;
  for (pid_t pid : pids) {
    owned.merge(socket_inodes(pid));
  }
  if (owned.empty()) {
    return out;
  }
  std::string net = fmt::format("/proc/{}/net/", pids.front());
  auto scan = [&](const char* file, auto parse) {
    util::Result<std::string> text = util::read_file(net + file);
    if (!text) {
      return;
    }
    for (const ListeningSocket& socket : parse(*text)) {
      if (owned.contains(socket.inode)) {
        out.any = true;
        if (socket.port != 0) {
          out.ports.insert(socket.port);
        }
      }
    }
  };
  auto tcp = [](std::string_view t) { return parse_proc_net_inet(t, NetTable::tcp); };
  auto udp = [](std::string_view t) { return parse_proc_net_inet(t, NetTable::udp); };
  scan("tcp", tcp);
  scan("tcp6", tcp);
  scan("udp", udp);
  scan("udp6", udp);
  scan("unix", parse_proc_net_unix);
  return out;
}

TreeActivity tree_activity(const std::vector<pid_t>& pids) {
  TreeActivity activity;
  for (pid_t pid : pids) {
    std::error_code ec;
    std::filesystem::directory_iterator it(fmt::format("/proc/{}/task", pid), ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      util::Result<std::string> schedstat = util::read_file(it->path() / "schedstat");
      if (schedstat) {
        std::vector<std::string_view> f = fields(util::trim(*schedstat));
        uint64_t ns = 0;
        if (!f.empty() && parse_number(f[0], ns)) {
          activity.cpu_ns += ns;
        }
      }
      // "pid (comm) S ...": the state follows the last ')'.
      util::Result<std::string> stat = util::read_file(it->path() / "stat");
      if (stat) {
        size_t close = stat->rfind(')');
        if (close != std::string::npos && close + 2 < stat->size()) {
          char state = (*stat)[close + 2];
          activity.runnable = activity.runnable || state == 'R' || state == 'D';
        }
      }
    }
  }
  return activity;
}

} // namespace explorer

#pragma once
// What /proc says about a process tree: the sockets it listens on and the CPU time it used.
// Readiness detection is built on these (explorer/readiness.h).

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

namespace explorer {

// A socket waiting for clients, as listed in /proc/<pid>/net/{tcp,tcp6,udp,udp6,unix}.
struct ListeningSocket {
  uint64_t inode = 0;
  int port = 0; // 0 for unix sockets

  bool operator==(const ListeningSocket&) const = default;
};

// Which kind of /proc/net table a text is.
enum class NetTable { tcp, udp };

// The listening entries of a /proc/net/tcp or tcp6 `text` (state 0A), or the bound entries of
// a udp or udp6 one (state 07).
std::vector<ListeningSocket> parse_proc_net_inet(std::string_view text, NetTable table);

// The listening stream sockets of a /proc/net/unix `text` (flag __SO_ACCEPTCON).
std::vector<ListeningSocket> parse_proc_net_unix(std::string_view text);

// The inodes of the sockets process `pid` has open (its /proc/<pid>/fd links).
std::set<uint64_t> socket_inodes(pid_t pid);

// What the processes `pids` listen on, in the network namespace of `pids.front()`.
struct TreeListening {
  std::set<int> ports;    // TCP and UDP ports
  bool any = false;       // some socket listens (unix sockets included)
};

// The sockets of `pids` that wait for clients.
TreeListening tree_listening(const std::vector<pid_t>& pids);

// How busy the threads of some processes are.
struct TreeActivity {
  uint64_t cpu_ns = 0;   // CPU time used so far
  bool runnable = false; // some thread is running or waiting for a CPU (or in disk sleep)
};

// The activity of every thread of `pids`. A tree is quiet when its CPU time stays put and no
// thread is runnable: a starved process uses no CPU either, yet is not done.
TreeActivity tree_activity(const std::vector<pid_t>& pids);

} // namespace explorer

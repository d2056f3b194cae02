// The eBPF discovery benchmark (issue 7): native vs eBPF discovery vs ptrace discovery vs
// `strace -f -c`, in one run, as ratios to the native figure of the same run:
//  1. a syscall-heavy loop (getppid, pinned to one CPU with taskset): ns per call;
//  2. nginx (Debian's, temporary config on port 18100) under wrk: requests per second;
// plus events per second and losses of each measurement. The loop also reports the traced
// thread's CPU time per call (BPF programs run in that thread, so their cost is in it), which
// stays meaningful when other processes load the shared machine; ptrace and strace cost in
// another process, so only their wall time counts. Two eBPF reference points share the
// loop table: an empty program on the same hook (the floor) and the straightforward
// hash-map design.
//
//   bench_tracer [--loop-calls N] [--slow-calls N] [--repeat R] [--wrk-seconds S] [--no-nginx]
//
// Needs root (BPF, ptrace of children is fine unprivileged). The machine is shared: compare the
// ratios, not the absolute times.

#include "tracer/discovery.h"
#include "util/fs.h"
#include "util/strings.h"

#include "ptrace_count.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <linux/types.h>
// clang-format off
#include "benchvariants.skel.h"
// clang-format on

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int k_port = 18100; // this helper's range: 18100-18119

struct Settings {
  long loop_calls = 2'000'000;
  long slow_calls = 200'000; // for ptrace and strace (about 100x slower per call)
  int repeat = 3;
  int wrk_seconds = 2;
  bool nginx = true;
};

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

std::vector<char*> c_args(std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (std::string& a : argv) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  return args;
}

// A child started with stdout/stderr in files, stopped before its exec until go().
class Paused {
public:
  explicit Paused(std::vector<std::string> argv) : m_dir("lupa-bench") {
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe");
    }
    std::string out = (m_dir.path() / "out").string();
    std::string err = (m_dir.path() / "err").string();
    std::vector<char*> args = c_args(argv);
    m_pid = ::fork();
    if (m_pid == 0) {
      ::close(go[1]);
      int null = ::open("/dev/null", O_RDONLY);
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(null, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      char byte = 0;
      if (::read(go[0], &byte, 1) != 1) {
        ::_exit(127);
      }
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(go[0]);
    m_go = go[1];
  }
  ~Paused() {
    if (m_go >= 0) {
      ::close(m_go);
    }
    if (m_pid > 0 && !m_reaped) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
    }
  }
  pid_t pid() const { return m_pid; }
  void go() {
    char byte = 'g';
    (void)!::write(m_go, &byte, 1);
    ::close(m_go);
    m_go = -1;
  }
  Run wait() {
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_reaped = true;
    Run r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = util::read_file(m_dir.path() / "out").value_or("");
    r.err = util::read_file(m_dir.path() / "err").value_or("");
    return r;
  }

private:
  util::TempDir m_dir;
  pid_t m_pid = -1;
  int m_go = -1;
  bool m_reaped = false;
};

Run run(std::vector<std::string> argv) {
  Paused p(std::move(argv));
  p.go();
  return p.wait();
}

std::vector<std::string> loop_command(long calls) {
  return {"taskset", "-c", "1", BENCH_TRACEE, "loop", std::to_string(calls)};
}

// What the loop printed: wall and thread-CPU ns per call.
struct LoopTime {
  double wall = 0;
  double cpu = 0;
};

LoopTime loop_time(const Run& r) {
  if (r.status != 0) {
    throw std::runtime_error(fmt::format("the loop failed (status {}): {}", r.status, r.err));
  }
  std::vector<std::string> fields = util::split(util::trim(r.out), ' ');
  if (fields.size() != 2) {
    throw std::runtime_error("the loop printed no timing: " + r.out);
  }
  return {std::stod(fields[0]), std::stod(fields[1])};
}

struct Row {
  std::string technique;
  double value = 0;               // wall ns per call, or requests per second
  std::optional<double> cpu;      // the traced thread's CPU ns per call (loop, in-thread costs)
  std::optional<uint64_t> events; // syscalls the technique counted
  double seconds = 0;             // over which it counted them
  std::optional<uint64_t> lost;
  std::string note;
};

// A loop row from its timing `t` over `calls` calls.
Row loop_row(std::string technique, const LoopTime& t, long calls, bool in_thread) {
  Row row;
  row.technique = std::move(technique);
  row.value = t.wall;
  if (in_thread) {
    row.cpu = t.cpu;
  }
  row.seconds = t.wall * static_cast<double>(calls) / 1e9;
  return row;
}

std::string events_per_second(const Row& r) {
  if (!r.events || r.seconds <= 0) {
    return "-";
  }
  return fmt::format("{:.2f} M/s", static_cast<double>(*r.events) / r.seconds / 1e6);
}

void print_rows(const std::string& title, const std::string& unit, const std::vector<Row>& rows,
                bool higher_is_better) {
  fmt::print("\n{}\n", title);
  const bool cpu = rows.front().cpu.has_value();
  fmt::print("{:<34} {:>10} {:>7} {:>17} {:>10} {:>11} {:>5}  {}\n", "technique", unit, "ratio",
             cpu ? "cpu ns/call ratio" : "", "events", "events/s", "lost", "note");
  const Row& base = rows.front();
  for (const Row& r : rows) {
    double ratio = higher_is_better ? base.value / r.value : r.value / base.value;
    std::string cpu_text = r.cpu && base.cpu
                               ? fmt::format("{:>9.1f} {:>6.2f}x", *r.cpu, *r.cpu / *base.cpu)
                               : (cpu ? "-" : "");
    fmt::print("{:<34} {:>10.1f} {:>6.2f}x {:>17} {:>10} {:>11} {:>5}  {}\n", r.technique, r.value,
               ratio, cpu_text, r.events ? std::to_string(*r.events) : "-", events_per_second(r),
               r.lost ? std::to_string(*r.lost) : "-", r.note);
  }
}

using VariantsPtr = std::unique_ptr<benchvariants_bpf, decltype(&benchvariants_bpf__destroy)>;

// One run of the loop under a reference BPF program (`hash` selects the hash-map design).
Row loop_under_variant(const Settings& s, bool hash) {
  VariantsPtr skel(benchvariants_bpf__open(), &benchvariants_bpf__destroy);
  if (!skel) {
    throw std::runtime_error("cannot open the benchmark BPF variants");
  }
  bpf_program__set_autoload(skel->progs.bench_floor, !hash);
  bpf_program__set_autoload(skel->progs.bench_hash, hash);
  bpf_program__set_autoload(skel->progs.bench_fork, hash);
  if (benchvariants_bpf__load(skel.get()) != 0 || benchvariants_bpf__attach(skel.get()) != 0) {
    throw std::runtime_error("cannot load/attach the benchmark BPF variants");
  }
  Paused p(loop_command(s.loop_calls));
  if (hash) {
    __u32 tgid = static_cast<__u32>(p.pid());
    __u32 one = 1;
    bpf_map__update_elem(skel->maps.bench_tree, &tgid, sizeof(tgid), &one, sizeof(one), BPF_ANY);
  }
  p.go();
  LoopTime t = loop_time(p.wait());
  benchvariants_bpf__detach(skel.get());
  if (!hash) {
    Row row = loop_row("eBPF floor: empty tp_btf sys_enter", t, s.loop_calls, true);
    row.note = "the hook alone";
    return row;
  }
  uint64_t counted = 0;
  const int fd = bpf_map__fd(skel->maps.bench_counts);
  struct {
    __u32 tgid;
    __u32 nr;
  } key{}, next{};
  void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    __u64 v = 0;
    bpf_map_lookup_elem(fd, &next, &v);
    counted += v;
    key = next;
    prev = &key;
  }
  Row row = loop_row("eBPF hash maps (filter + count)", t, s.loop_calls, true);
  row.events = counted;
  row.note = "PLATFORM.md's design";
  return row;
}

Row loop_floor(const Settings& s) {
  return loop_under_variant(s, false);
}
Row loop_hash(const Settings& s) {
  return loop_under_variant(s, true);
}

Row loop_native(const Settings& s) {
  Row row = loop_row("native", loop_time(run(loop_command(s.loop_calls))), s.loop_calls, true);
  row.note = fmt::format("{} getppid", s.loop_calls);
  return row;
}

// eBPF discovery of the tree `p` starts when it execs (the tracer library, as the runner uses it).
std::unique_ptr<tracer::EbpfDiscovery> start_discovery(const Paused& p) {
  tracer::Scope scope;
  scope.exec_trigger = tracer::ExecTrigger{p.pid(), std::nullopt};
  util::Result<std::unique_ptr<tracer::EbpfDiscovery>> d = tracer::EbpfDiscovery::start(scope);
  if (!d) {
    throw std::runtime_error(d.error());
  }
  return std::move(*d);
}

tracer::TraceReport finish_discovery(tracer::EbpfDiscovery& d) {
  util::Result<tracer::TraceReport> report = d.finish();
  if (!report) {
    throw std::runtime_error(report.error());
  }
  return std::move(*report);
}

Row loop_discovery(const Settings& s) {
  Paused p(loop_command(s.loop_calls));
  std::unique_ptr<tracer::EbpfDiscovery> d = start_discovery(p);
  p.go();
  Run r = p.wait();
  tracer::TraceReport report = finish_discovery(*d);
  Row row = loop_row("eBPF discovery (lupa tracer)", loop_time(r), s.loop_calls, true);
  row.events = report.total_calls();
  row.lost = report.discovery.lost_events;
  row.note = report.discovery.complete ? "" : report.discovery.incomplete_reason;
  return row;
}

std::string self_exe() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

// ptrace and strace cost in another process (the tracer) and in context switches: only their
// wall time means something.
Row loop_ptrace(const Settings& s) {
  std::vector<std::string> cmd = {self_exe(), "ptrace-count", "--"};
  std::vector<std::string> loop = loop_command(s.slow_calls);
  cmd.insert(cmd.end(), loop.begin(), loop.end());
  Run r = run(cmd);
  Row row = loop_row("ptrace discovery (PTRACE_SYSCALL)", loop_time(r), s.slow_calls, false);
  row.events = std::stoull(util::split(r.err, ' ').back());
  row.lost = 0;
  row.note = fmt::format("bench's minimal counter, {} calls", s.slow_calls);
  return row;
}

Row loop_strace(const Settings& s) {
  std::vector<std::string> cmd = {"strace", "-f", "-c", "-o", "/dev/null", "--"};
  std::vector<std::string> loop = loop_command(s.slow_calls);
  cmd.insert(cmd.end(), loop.begin(), loop.end());
  Row row = loop_row("strace -f -c", loop_time(run(cmd)), s.slow_calls, false);
  row.note = fmt::format("{} calls", s.slow_calls);
  return row;
}

// Round after round of every technique, so that a busy moment of the shared machine hits them
// alike; each technique's row is its run with the median value.
template <typename Technique, typename... Args>
std::vector<Row> median_rounds(int rounds, const std::vector<Technique>& techniques,
                               const Args&... args) {
  std::vector<std::vector<Row>> runs(techniques.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t t = 0; t < techniques.size(); ++t) {
      runs[t].push_back(techniques[t](args...));
    }
  }
  std::vector<Row> rows;
  for (std::vector<Row>& r : runs) {
    std::vector<double> cpu;
    for (const Row& run : r) {
      if (run.cpu) {
        cpu.push_back(*run.cpu);
      }
    }
    std::sort(r.begin(), r.end(), [](const Row& a, const Row& b) { return a.value < b.value; });
    rows.push_back(r[r.size() / 2]);
    if (!cpu.empty()) {
      std::sort(cpu.begin(), cpu.end());
      rows.back().cpu = cpu[cpu.size() / 2];
    }
  }
  return rows;
}

void loop_benchmark(const Settings& s) {
  using Technique = Row (*)(const Settings&);
  std::vector<Row> rows =
      median_rounds<Technique>(s.repeat, {loop_native, loop_floor, loop_hash, loop_discovery}, s);
  // ptrace and strace: one run each, on fewer calls (about 70x slower per call).
  rows.push_back(loop_ptrace(s));
  rows.push_back(loop_strace(s));
  print_rows(
      fmt::format("Syscall-heavy loop (getppid, pinned to CPU 1), median of {} rounds", s.repeat),
      "ns/call", rows, false);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

void wait_port(int port) {
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!port_open(port)) {
    if (Clock::now() > deadline) {
      throw std::runtime_error(fmt::format("nginx did not listen on port {}", port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

double wrk(const Settings& s) {
  Run r = run({"wrk", "-t2", "-c16", fmt::format("-d{}s", s.wrk_seconds),
               fmt::format("http://127.0.0.1:{}/", k_port)});
  for (const std::string& line : util::split(r.out, '\n')) {
    if (line.starts_with("Requests/sec:")) {
      return std::stod(std::string(util::trim(line.substr(13))));
    }
  }
  throw std::runtime_error("wrk printed no Requests/sec: " + r.out + r.err);
}

class Nginx {
public:
  Nginx() : m_dir("lupa-bench-nginx") {
    std::filesystem::create_directories(m_dir.path() / "html");
    (void)util::write_file_atomic(m_dir.path() / "html" / "index.html", "<p>lupa</p>\n");
    std::string d = m_dir.path().string();
    std::string conf = fmt::format(R"(daemon off;
master_process on;
worker_processes 1;
pid {0}/nginx.pid;
error_log {0}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {0}/body;
  proxy_temp_path {0}/proxy;
  fastcgi_temp_path {0}/fastcgi;
  uwsgi_temp_path {0}/uwsgi;
  scgi_temp_path {0}/scgi;
  server {{ listen 127.0.0.1:{1}; root {0}/html; }}
}}
)",
                                   d, k_port);
    (void)util::write_file_atomic(m_dir.path() / "nginx.conf", conf);
    ::chmod(d.c_str(), 0755);
  }
  std::vector<std::string> command() const {
    return {"/usr/sbin/nginx", "-c", (m_dir.path() / "nginx.conf").string(), "-e",
            (m_dir.path() / "error.log").string()};
  }
  // Stops the running nginx (its master's pid from the pid file) and waits until the port is free.
  void stop() const {
    util::Result<std::string> pid = util::read_file(m_dir.path() / "nginx.pid");
    if (pid) {
      ::kill(std::stoi(*pid), SIGQUIT);
    }
  }

private:
  util::TempDir m_dir;
};

Row nginx_native(const Settings& s, const Nginx& nginx) {
  Paused p(nginx.command());
  p.go();
  wait_port(k_port);
  double rps = wrk(s);
  nginx.stop();
  p.wait();
  return {.technique = "native", .value = rps};
}

Row nginx_discovery(const Settings& s, const Nginx& nginx) {
  Paused p(nginx.command());
  std::unique_ptr<tracer::EbpfDiscovery> d = start_discovery(p);
  p.go();
  wait_port(k_port);
  double rps = wrk(s);
  nginx.stop();
  p.wait();
  tracer::TraceReport report = finish_discovery(*d);
  return {.technique = "eBPF discovery (lupa tracer)",
          .value = rps,
          .events = report.total_calls(),
          .seconds = report.discovery.seconds,
          .lost = report.discovery.lost_events,
          .note = fmt::format("{} syscalls, {} processes", report.discovery.counts.size(),
                              report.processes.size())};
}

// nginx run by `prefix` (a tracer command) under wrk: requests per second, the tracer's
// output, and the seconds from start to stop.
struct TracedNginx {
  double rps = 0;
  Run run;
  double seconds = 0;
};

TracedNginx nginx_under(const Settings& s, const Nginx& nginx, std::vector<std::string> prefix) {
  std::vector<std::string> n = nginx.command();
  prefix.insert(prefix.end(), n.begin(), n.end());
  Paused p(prefix);
  auto start = Clock::now();
  p.go();
  wait_port(k_port);
  TracedNginx t;
  t.rps = wrk(s);
  nginx.stop();
  t.run = p.wait();
  t.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return t;
}

Row nginx_ptrace(const Settings& s, const Nginx& nginx) {
  TracedNginx t = nginx_under(s, nginx, {self_exe(), "ptrace-count", "--"});
  return {.technique = "ptrace discovery (PTRACE_SYSCALL)",
          .value = t.rps,
          .events = std::stoull(util::split(t.run.err, ' ').back()),
          .seconds = t.seconds,
          .lost = 0,
          .note = "bench's minimal counter"};
}

Row nginx_strace(const Settings& s, const Nginx& nginx) {
  util::TempDir dir("lupa-bench-strace");
  std::string summary = (dir.path() / "summary").string();
  TracedNginx t = nginx_under(s, nginx, {"strace", "-f", "-c", "-o", summary, "--"});
  std::optional<uint64_t> calls;
  for (const std::string& line : util::split(util::read_file(summary).value_or(""), '\n')) {
    std::vector<std::string> fields;
    for (const std::string& f : util::split(line, ' ')) {
      if (!f.empty()) {
        fields.push_back(f);
      }
    }
    if (!fields.empty() && fields.back() == "total" && fields.size() >= 4) {
      calls = std::stoull(fields[3]);
    }
  }
  return {.technique = "strace -f -c",
          .value = t.rps,
          .events = calls,
          .seconds = t.seconds,
          .note = "exit_group not counted by -c"};
}

void nginx_benchmark(const Settings& s) {
  if (!util::is_executable_file("/usr/sbin/nginx") || util::find_in_path("wrk").empty()) {
    fmt::print("\nnginx benchmark skipped: /usr/sbin/nginx or wrk is not installed\n");
    return;
  }
  if (port_open(k_port)) {
    throw std::runtime_error(fmt::format("port {} is already in use", k_port));
  }
  Nginx nginx;
  using Technique = Row (*)(const Settings&, const Nginx&);
  std::vector<Row> rows = median_rounds<Technique>(
      s.repeat, {nginx_native, nginx_discovery, nginx_ptrace, nginx_strace}, s, nginx);
  print_rows(fmt::format("nginx under wrk -t2 -c16 -d{}s, median of {} rounds (ratio = native "
                         "req/s / req/s)",
                         s.wrk_seconds, s.repeat),
             "req/s", rows, true);
}

int ptrace_count_main(int argc, char** argv) {
  std::vector<std::string> cmd;
  for (int i = 3; i < argc; ++i) {
    cmd.emplace_back(argv[i]);
  }
  util::Result<bench::PtraceCount> count = bench::ptrace_count(cmd);
  if (!count) {
    fmt::print(stderr, "bench_tracer: {}\n", count.error());
    return 1;
  }
  // The last word of stderr is the number of syscalls counted.
  fmt::print(stderr, "syscalls counted: {}", count->total());
  return count->exit_status;
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "ptrace-count") == 0) {
    return ptrace_count_main(argc, argv);
  }
  Settings s;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_tracer: error: {} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--loop-calls") {
      s.loop_calls = std::stol(next());
    } else if (a == "--slow-calls") {
      s.slow_calls = std::stol(next());
    } else if (a == "--repeat") {
      s.repeat = std::max(1, std::stoi(next()));
    } else if (a == "--wrk-seconds") {
      s.wrk_seconds = std::stoi(next());
    } else if (a == "--no-nginx") {
      s.nginx = false;
    } else {
      fmt::print(stderr, "usage: bench_tracer [--loop-calls N] [--slow-calls N] [--repeat R] "
                         "[--wrk-seconds S] [--no-nginx]\n");
      return 2;
    }
  }
  if (util::Result<void> ok = tracer::ebpf_discovery_available(); !ok) {
    fmt::print(stderr, "bench_tracer: error: {}\n", ok.error());
    return 1;
  }
  try {
    loop_benchmark(s);
    if (s.nginx) {
      nginx_benchmark(s);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_tracer: error: {}\n", e.what());
    return 1;
  }
  return 0;
}

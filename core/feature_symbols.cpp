// Symbolic names of sub-feature values, taken from the system headers: each table entry is a
// macro of those headers, named by its own spelling (as strace's xlat tables are).

#include "core/subfeatures.h"
#include "core/syscalls.h"

#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string>
#include <utility>
#include <vector>

namespace core {

namespace {

struct Named {
  uint64_t value;
  const char* name;
};

using Table = std::vector<Named>;

#define N(x)                                                                                       \
  Named {                                                                                          \
    static_cast<uint64_t>(x), #x                                                                   \
  }

const Table& ioctl_requests() {
  static const Table table = {
      N(TCGETS),
      N(TCSETS),
      N(TCSETSW),
      N(TCSETSF),
      N(TCGETA),
      N(TCSETA),
      N(TCSETAW),
      N(TCSETAF),
      N(TCSBRK),
      N(TCXONC),
      N(TCFLSH),
      N(TIOCEXCL),
      N(TIOCNXCL),
      N(TIOCSCTTY),
      N(TIOCGPGRP),
      N(TIOCSPGRP),
      N(TIOCOUTQ),
      N(TIOCSTI),
      N(TIOCGWINSZ),
      N(TIOCSWINSZ),
      N(TIOCMGET),
      N(TIOCMBIS),
      N(TIOCMBIC),
      N(TIOCMSET),
      N(TIOCGSOFTCAR),
      N(TIOCSSOFTCAR),
      N(FIONREAD),
      N(TIOCLINUX),
      N(TIOCCONS),
      N(TIOCGSERIAL),
      N(TIOCSSERIAL),
      N(TIOCPKT),
      N(FIONBIO),
      N(TIOCNOTTY),
      N(TIOCSETD),
      N(TIOCGETD),
      N(TCSBRKP),
      N(TIOCSBRK),
      N(TIOCCBRK),
      N(TIOCGSID),
      N(TIOCGRS485),
      N(TIOCSRS485),
      N(TIOCGPTN),
      N(TIOCSPTLCK),
      N(TIOCGDEV),
      N(TIOCSIG),
      N(TIOCVHANGUP),
      N(TIOCGPKT),
      N(TIOCGPTLCK),
      N(TIOCGEXCL),
      N(TIOCGPTPEER),
      N(FIONCLEX),
      N(FIOCLEX),
      N(FIOASYNC),
      N(TIOCSERCONFIG),
      N(TIOCSERGWILD),
      N(TIOCSERSWILD),
      N(TIOCGLCKTRMIOS),
      N(TIOCSLCKTRMIOS),
      N(TIOCSERGSTRUCT),
      N(TIOCSERGETLSR),
      N(TIOCSERGETMULTI),
      N(TIOCSERSETMULTI),
      N(TIOCMIWAIT),
      N(TIOCGICOUNT),
      N(FIOQSIZE),
      N(FIOSETOWN),
      N(FIOGETOWN),
      N(SIOCGPGRP),
      N(SIOCSPGRP),
      N(SIOCATMARK),
      N(SIOCGSTAMP_OLD),
      N(SIOCGSTAMPNS_OLD),
      N(SIOCADDRT),
      N(SIOCDELRT),
      N(SIOCGIFNAME),
      N(SIOCSIFLINK),
      N(SIOCGIFCONF),
      N(SIOCGIFFLAGS),
      N(SIOCSIFFLAGS),
      N(SIOCGIFADDR),
      N(SIOCSIFADDR),
      N(SIOCGIFDSTADDR),
      N(SIOCSIFDSTADDR),
      N(SIOCGIFBRDADDR),
      N(SIOCSIFBRDADDR),
      N(SIOCGIFNETMASK),
      N(SIOCSIFNETMASK),
      N(SIOCGIFMETRIC),
      N(SIOCSIFMETRIC),
      N(SIOCGIFMTU),
      N(SIOCSIFMTU),
      N(SIOCSIFNAME),
      N(SIOCSIFHWADDR),
      N(SIOCGIFHWADDR),
      N(SIOCGIFINDEX),
      N(SIOCGIFCOUNT),
      N(SIOCETHTOOL),
      N(SIOCGIFTXQLEN),
      N(SIOCOUTQ),
      N(SIOCINQ),
      N(FS_IOC_GETFLAGS),
      N(FS_IOC_SETFLAGS),
      N(FS_IOC_GETVERSION),
      N(FS_IOC_FSGETXATTR),
      N(FS_IOC_FSSETXATTR),
      N(FICLONE),
      N(FICLONERANGE),
      N(FIDEDUPERANGE),
      N(FIFREEZE),
      N(FITHAW),
      N(FITRIM),
      N(BLKGETSIZE),
      N(BLKGETSIZE64),
      N(BLKSSZGET),
      N(BLKBSZGET),
      N(BLKROGET),
      N(BLKFLSBUF),
      N(BLKRRPART),
      N(BLKDISCARD),
      N(RNDGETENTCNT),
      N(RNDADDTOENTCNT),
      N(RNDGETPOOL),
      N(RNDADDENTROPY),
      N(RNDZAPENTCNT),
      N(RNDCLEARPOOL),
      N(RNDRESEEDCRNG),
  };
  return table;
}

const Table& fcntl_commands() {
  static const Table table = {
      N(F_DUPFD),
      N(F_GETFD),
      N(F_SETFD),
      N(F_GETFL),
      N(F_SETFL),
      N(F_GETLK),
      N(F_SETLK),
      N(F_SETLKW),
      N(F_SETOWN),
      N(F_GETOWN),
      N(F_SETSIG),
      N(F_GETSIG),
      N(F_SETOWN_EX),
      N(F_GETOWN_EX),
      N(F_OFD_GETLK),
      N(F_OFD_SETLK),
      N(F_OFD_SETLKW),
      N(F_SETLEASE),
      N(F_GETLEASE),
      N(F_NOTIFY),
      N(F_DUPFD_CLOEXEC),
      N(F_SETPIPE_SZ),
      N(F_GETPIPE_SZ),
      N(F_ADD_SEALS),
      N(F_GET_SEALS),
      N(F_GET_RW_HINT),
      N(F_SET_RW_HINT),
      N(F_GET_FILE_RW_HINT),
      N(F_SET_FILE_RW_HINT),
  };
  return table;
}

const Table& prctl_options() {
  static const Table table = {
      N(PR_SET_PDEATHSIG),
      N(PR_GET_PDEATHSIG),
      N(PR_GET_DUMPABLE),
      N(PR_SET_DUMPABLE),
      N(PR_GET_UNALIGN),
      N(PR_SET_UNALIGN),
      N(PR_GET_KEEPCAPS),
      N(PR_SET_KEEPCAPS),
      N(PR_GET_FPEMU),
      N(PR_SET_FPEMU),
      N(PR_GET_FPEXC),
      N(PR_SET_FPEXC),
      N(PR_GET_TIMING),
      N(PR_SET_TIMING),
      N(PR_SET_NAME),
      N(PR_GET_NAME),
      N(PR_GET_ENDIAN),
      N(PR_SET_ENDIAN),
      N(PR_GET_SECCOMP),
      N(PR_SET_SECCOMP),
      N(PR_CAPBSET_READ),
      N(PR_CAPBSET_DROP),
      N(PR_GET_TSC),
      N(PR_SET_TSC),
      N(PR_GET_SECUREBITS),
      N(PR_SET_SECUREBITS),
      N(PR_SET_TIMERSLACK),
      N(PR_GET_TIMERSLACK),
      N(PR_TASK_PERF_EVENTS_DISABLE),
      N(PR_TASK_PERF_EVENTS_ENABLE),
      N(PR_MCE_KILL),
      N(PR_MCE_KILL_GET),
      N(PR_SET_MM),
      N(PR_SET_PTRACER),
      N(PR_SET_CHILD_SUBREAPER),
      N(PR_GET_CHILD_SUBREAPER),
      N(PR_SET_NO_NEW_PRIVS),
      N(PR_GET_NO_NEW_PRIVS),
      N(PR_GET_TID_ADDRESS),
      N(PR_SET_THP_DISABLE),
      N(PR_GET_THP_DISABLE),
      N(PR_MPX_ENABLE_MANAGEMENT),
      N(PR_MPX_DISABLE_MANAGEMENT),
      N(PR_SET_FP_MODE),
      N(PR_GET_FP_MODE),
      N(PR_CAP_AMBIENT),
      N(PR_SVE_SET_VL),
      N(PR_SVE_GET_VL),
      N(PR_GET_SPECULATION_CTRL),
      N(PR_SET_SPECULATION_CTRL),
      N(PR_PAC_RESET_KEYS),
      N(PR_SET_TAGGED_ADDR_CTRL),
      N(PR_GET_TAGGED_ADDR_CTRL),
      N(PR_SET_IO_FLUSHER),
      N(PR_GET_IO_FLUSHER),
      N(PR_SET_SYSCALL_USER_DISPATCH),
      N(PR_SCHED_CORE),
      N(PR_SET_VMA),
  };
  return table;
}

const Table& arch_prctl_codes() {
  static const Table table = {
      N(ARCH_SET_GS),
      N(ARCH_SET_FS),
      N(ARCH_GET_FS),
      N(ARCH_GET_GS),
      N(ARCH_GET_CPUID),
      N(ARCH_SET_CPUID),
      N(ARCH_GET_XCOMP_SUPP),
      N(ARCH_GET_XCOMP_PERM),
      N(ARCH_REQ_XCOMP_PERM),
      N(ARCH_GET_XCOMP_GUEST_PERM),
      N(ARCH_REQ_XCOMP_GUEST_PERM),
      N(ARCH_MAP_VDSO_X32),
      N(ARCH_MAP_VDSO_32),
      N(ARCH_MAP_VDSO_64),
      // Not in these headers yet; the kernel's arch/x86/include/uapi/asm/prctl.h names them.
      Named{0x3001, "ARCH_CET_STATUS"},
      Named{0x4001, "ARCH_GET_UNTAG_MASK"},
      Named{0x4002, "ARCH_ENABLE_TAGGED_ADDR"},
      Named{0x4003, "ARCH_GET_MAX_TAG_BITS"},
      Named{0x4004, "ARCH_FORCE_TAGGED_SVA"},
      Named{0x5001, "ARCH_SHSTK_ENABLE"},
      Named{0x5002, "ARCH_SHSTK_DISABLE"},
      Named{0x5003, "ARCH_SHSTK_LOCK"},
      Named{0x5004, "ARCH_SHSTK_UNLOCK"},
      Named{0x5005, "ARCH_SHSTK_STATUS"},
  };
  return table;
}

const Table& socket_domains() {
  static const Table table = {
      N(AF_UNSPEC),    N(AF_UNIX),       N(AF_INET),    N(AF_AX25),    N(AF_IPX),
      N(AF_APPLETALK), N(AF_NETROM),     N(AF_BRIDGE),  N(AF_ATMPVC),  N(AF_X25),
      N(AF_INET6),     N(AF_ROSE),       N(AF_DECnet),  N(AF_NETBEUI), N(AF_SECURITY),
      N(AF_KEY),       N(AF_NETLINK),    N(AF_PACKET),  N(AF_ASH),     N(AF_ECONET),
      N(AF_ATMSVC),    N(AF_RDS),        N(AF_SNA),     N(AF_IRDA),    N(AF_PPPOX),
      N(AF_WANPIPE),   N(AF_LLC),        N(AF_IB),      N(AF_MPLS),    N(AF_CAN),
      N(AF_TIPC),      N(AF_BLUETOOTH),  N(AF_IUCV),    N(AF_RXRPC),   N(AF_ISDN),
      N(AF_PHONET),    N(AF_IEEE802154), N(AF_CAIF),    N(AF_ALG),     N(AF_NFC),
      N(AF_VSOCK),     N(AF_KCM),        N(AF_QIPCRTR), N(AF_SMC),     N(AF_XDP),
  };
  return table;
}

const Table& socket_types() {
  static const Table table = {
      N(SOCK_STREAM),    N(SOCK_DGRAM), N(SOCK_RAW),    N(SOCK_RDM),
      N(SOCK_SEQPACKET), N(SOCK_DCCP),  N(SOCK_PACKET),
  };
  return table;
}

const Table& madvise_advice() {
  static const Table table = {
      N(MADV_NORMAL),
      N(MADV_RANDOM),
      N(MADV_SEQUENTIAL),
      N(MADV_WILLNEED),
      N(MADV_DONTNEED),
      N(MADV_FREE),
      N(MADV_REMOVE),
      N(MADV_DONTFORK),
      N(MADV_DOFORK),
      N(MADV_MERGEABLE),
      N(MADV_UNMERGEABLE),
      N(MADV_HUGEPAGE),
      N(MADV_NOHUGEPAGE),
      N(MADV_DONTDUMP),
      N(MADV_DODUMP),
      N(MADV_WIPEONFORK),
      N(MADV_KEEPONFORK),
      N(MADV_COLD),
      N(MADV_PAGEOUT),
      N(MADV_POPULATE_READ),
      N(MADV_POPULATE_WRITE),
      N(MADV_HWPOISON),
      Named{24, "MADV_DONTNEED_LOCKED"},
      Named{25, "MADV_COLLAPSE"},
  };
  return table;
}

const Table& clone_flags() {
  static const Table table = {
      N(CLONE_VM),
      N(CLONE_FS),
      N(CLONE_FILES),
      N(CLONE_SIGHAND),
      N(CLONE_PIDFD),
      N(CLONE_PTRACE),
      N(CLONE_VFORK),
      N(CLONE_PARENT),
      N(CLONE_THREAD),
      N(CLONE_NEWNS),
      N(CLONE_SYSVSEM),
      N(CLONE_SETTLS),
      N(CLONE_PARENT_SETTID),
      N(CLONE_CHILD_CLEARTID),
      N(CLONE_DETACHED),
      N(CLONE_UNTRACED),
      N(CLONE_CHILD_SETTID),
      N(CLONE_NEWCGROUP),
      N(CLONE_NEWUTS),
      N(CLONE_NEWIPC),
      N(CLONE_NEWUSER),
      N(CLONE_NEWPID),
      N(CLONE_NEWNET),
      N(CLONE_IO),
  };
  return table;
}

const Table& mmap_protections() {
  static const Table table = {
      N(PROT_READ),           N(PROT_WRITE),     N(PROT_EXEC),
      Named{0x8, "PROT_SEM"}, N(PROT_GROWSDOWN), N(PROT_GROWSUP),
  };
  return table;
}

const Table& mmap_types() {
  static const Table table = {N(MAP_SHARED), N(MAP_PRIVATE), N(MAP_SHARED_VALIDATE)};
  return table;
}

const Table& mmap_flags() {
  static const Table table = {
      N(MAP_FIXED),     N(MAP_ANONYMOUS),       N(MAP_32BIT),
      N(MAP_GROWSDOWN), N(MAP_DENYWRITE),       N(MAP_EXECUTABLE),
      N(MAP_LOCKED),    N(MAP_NORESERVE),       N(MAP_POPULATE),
      N(MAP_NONBLOCK),  N(MAP_STACK),           N(MAP_HUGETLB),
      N(MAP_SYNC),      N(MAP_FIXED_NOREPLACE), Named{0x4000000, "MAP_UNINITIALIZED"},
  };
  return table;
}

const Table& futex_commands() {
  static const Table table = {
      N(FUTEX_WAIT),           N(FUTEX_WAKE),        N(FUTEX_FD),          N(FUTEX_REQUEUE),
      N(FUTEX_CMP_REQUEUE),    N(FUTEX_WAKE_OP),     N(FUTEX_LOCK_PI),     N(FUTEX_UNLOCK_PI),
      N(FUTEX_TRYLOCK_PI),     N(FUTEX_WAIT_BITSET), N(FUTEX_WAKE_BITSET), N(FUTEX_WAIT_REQUEUE_PI),
      N(FUTEX_CMP_REQUEUE_PI), N(FUTEX_LOCK_PI2),
  };
  return table;
}

const Table& socket_levels() {
  static const Table table = {
      N(SOL_SOCKET),     N(IPPROTO_IP),  N(IPPROTO_IPV6), N(IPPROTO_TCP), N(IPPROTO_UDP),
      N(IPPROTO_ICMPV6), N(IPPROTO_RAW), N(SOL_RAW),      N(SOL_PACKET),  N(SOL_NETLINK),
      N(SOL_TLS),        N(SOL_ALG),     N(SOL_XDP),
  };
  return table;
}

const Table& socket_options() {
  static const Table table = {
      N(SO_DEBUG),
      N(SO_REUSEADDR),
      N(SO_TYPE),
      N(SO_ERROR),
      N(SO_DONTROUTE),
      N(SO_BROADCAST),
      N(SO_SNDBUF),
      N(SO_RCVBUF),
      N(SO_SNDBUFFORCE),
      N(SO_RCVBUFFORCE),
      N(SO_KEEPALIVE),
      N(SO_OOBINLINE),
      N(SO_NO_CHECK),
      N(SO_PRIORITY),
      N(SO_LINGER),
      N(SO_BSDCOMPAT),
      N(SO_REUSEPORT),
      N(SO_PASSCRED),
      N(SO_PEERCRED),
      N(SO_RCVLOWAT),
      N(SO_SNDLOWAT),
      N(SO_RCVTIMEO_OLD),
      N(SO_SNDTIMEO_OLD),
      N(SO_BINDTODEVICE),
      N(SO_ATTACH_FILTER),
      N(SO_DETACH_FILTER),
      N(SO_PEERNAME),
      N(SO_TIMESTAMP_OLD),
      N(SO_ACCEPTCONN),
      N(SO_PEERSEC),
      N(SO_PASSSEC),
      N(SO_MARK),
      N(SO_PROTOCOL),
      N(SO_DOMAIN),
      N(SO_RXQ_OVFL),
      N(SO_ATTACH_BPF),
      N(SO_INCOMING_CPU),
      N(SO_ATTACH_REUSEPORT_CBPF),
      N(SO_ATTACH_REUSEPORT_EBPF),
      N(SO_ZEROCOPY),
      N(SO_TXTIME),
      N(SO_BINDTOIFINDEX),
      N(SO_BUSY_POLL),
      N(SO_INCOMING_NAPI_ID),
  };
  return table;
}

const Table& tcp_options() {
  static const Table table = {
      N(TCP_NODELAY),
      N(TCP_MAXSEG),
      N(TCP_CORK),
      N(TCP_KEEPIDLE),
      N(TCP_KEEPINTVL),
      N(TCP_KEEPCNT),
      N(TCP_SYNCNT),
      N(TCP_LINGER2),
      N(TCP_DEFER_ACCEPT),
      N(TCP_WINDOW_CLAMP),
      N(TCP_INFO),
      N(TCP_QUICKACK),
      N(TCP_CONGESTION),
      N(TCP_MD5SIG),
      N(TCP_THIN_LINEAR_TIMEOUTS),
      N(TCP_USER_TIMEOUT),
      N(TCP_REPAIR),
      N(TCP_FASTOPEN),
      N(TCP_TIMESTAMP),
      N(TCP_NOTSENT_LOWAT),
      N(TCP_ULP),
      N(TCP_FASTOPEN_CONNECT),
      N(TCP_ZEROCOPY_RECEIVE),
  };
  return table;
}

const Table& ip_options() {
  static const Table table = {
      N(IP_TOS),
      N(IP_TTL),
      N(IP_HDRINCL),
      N(IP_OPTIONS),
      N(IP_RECVOPTS),
      N(IP_RETOPTS),
      N(IP_PKTINFO),
      N(IP_MTU_DISCOVER),
      N(IP_RECVERR),
      N(IP_RECVTTL),
      N(IP_RECVTOS),
      N(IP_MTU),
      N(IP_FREEBIND),
      N(IP_TRANSPARENT),
      N(IP_BIND_ADDRESS_NO_PORT),
      N(IP_MULTICAST_IF),
      N(IP_MULTICAST_TTL),
      N(IP_MULTICAST_LOOP),
      N(IP_ADD_MEMBERSHIP),
      N(IP_DROP_MEMBERSHIP),
  };
  return table;
}

const Table& ipv6_options() {
  static const Table table = {
      N(IPV6_V6ONLY),         N(IPV6_RECVPKTINFO),  N(IPV6_PKTINFO),
      N(IPV6_UNICAST_HOPS),   N(IPV6_MULTICAST_IF), N(IPV6_MULTICAST_HOPS),
      N(IPV6_MULTICAST_LOOP), N(IPV6_JOIN_GROUP),   N(IPV6_LEAVE_GROUP),
      N(IPV6_MTU_DISCOVER),   N(IPV6_MTU),          N(IPV6_RECVERR),
      N(IPV6_TCLASS),
  };
  return table;
}

const Table& udp_options() {
  static const Table table = {N(UDP_CORK), N(UDP_ENCAP), N(UDP_SEGMENT), N(UDP_GRO)};
  return table;
}

#undef N

const char* lookup(const Table& table, uint64_t value) {
  for (const Named& n : table) {
    if (n.value == value) {
      return n.name;
    }
  }
  return nullptr;
}

std::string name_or_empty(const Table& table, uint64_t value) {
  const char* name = lookup(table, value);
  return name != nullptr ? name : "";
}

// "A|B|C" for the bits of `value` that `table` names; empty if some bit has no name.
std::string flag_names(const Table& table, uint64_t value) {
  std::string out;
  for (uint64_t bits = value; bits != 0; bits &= bits - 1) {
    const char* name = lookup(table, bits & ~(bits - 1));
    if (name == nullptr) {
      return "";
    }
    out += (out.empty() ? "" : "|") + std::string(name);
  }
  return out;
}

// The option names of socket level `level`.
const Table* options_of_level(uint64_t level) {
  switch (level) {
  case SOL_SOCKET:
    return &socket_options();
  case IPPROTO_TCP:
    return &tcp_options();
  case IPPROTO_IP:
    return &ip_options();
  case IPPROTO_IPV6:
    return &ipv6_options();
  case IPPROTO_UDP:
    return &udp_options();
  default:
    return nullptr;
  }
}

std::string futex_name(uint64_t op) {
  std::string out = name_or_empty(futex_commands(), op & FUTEX_CMD_MASK);
  if (out.empty()) {
    return "";
  }
  if (op & FUTEX_PRIVATE_FLAG) {
    out += "|FUTEX_PRIVATE_FLAG";
  }
  if (op & FUTEX_CLOCK_REALTIME) {
    out += "|FUTEX_CLOCK_REALTIME";
  }
  return out;
}

} // namespace

std::string feature_symbol(const FeatureKey& key) {
  std::string syscall = SyscallTable::get().name(key.nr);
  // A flag-set key with no bit set: the call passed none of the flags.
  bool no_flags = key.value == 0 && key.mask != 0 && key.mask != 0xffffffff;
  if (syscall == "ioctl") {
    return name_or_empty(ioctl_requests(), key.value);
  }
  if (syscall == "fcntl") {
    return name_or_empty(fcntl_commands(), key.value);
  }
  if (syscall == "prctl") {
    return name_or_empty(prctl_options(), key.value);
  }
  if (syscall == "arch_prctl") {
    return name_or_empty(arch_prctl_codes(), key.value);
  }
  if (syscall == "socket") {
    return key.arg == 0 ? name_or_empty(socket_domains(), key.value)
                        : name_or_empty(socket_types(), key.value);
  }
  if (syscall == "madvise") {
    return name_or_empty(madvise_advice(), key.value);
  }
  if (syscall == "clone") {
    return no_flags ? "0" : flag_names(clone_flags(), key.value);
  }
  if (syscall == "mmap" || syscall == "mprotect") {
    if (key.arg == 2) {
      return key.value == 0 ? "PROT_NONE" : flag_names(mmap_protections(), key.value);
    }
    if (key.mask == MAP_TYPE) {
      return name_or_empty(mmap_types(), key.value);
    }
    return no_flags ? "0" : flag_names(mmap_flags(), key.value);
  }
  if (syscall == "setsockopt" && key.arg2 >= 0) {
    std::string level = name_or_empty(socket_levels(), key.value);
    const Table* options = options_of_level(key.value);
    std::string option = options != nullptr ? name_or_empty(*options, key.value2) : "";
    if (level.empty() || option.empty()) {
      return "";
    }
    return level + ":" + option;
  }
  if (syscall == "futex") {
    return futex_name(key.value);
  }
  return "";
}

} // namespace core

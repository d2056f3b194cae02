#!/usr/bin/env bash
# Installs every Debian package lupa needs, configures Podman, and starts dockerd.
# Idempotent: a second run only checks. Needs root (apt-get, dockerd).
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates ccache curl
  libseccomp-dev libbpf-dev bpftool clang llvm libelf-dev libdw-dev zlib1g-dev
  libgit2-dev libsqlitecpp-dev libsqlite3-dev sqlite3
  libboost-dev libboost-filesystem-dev libtomlplusplus-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libexpected-dev libcapstone-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  gnuplot-nox docker.io podman mmdebstrap strace bpftrace linux-perf
  nginx-light wrk redis-server redis-tools memcached procps coreutils python3 iproute2 netcat-openbsd
  libcap2-bin util-linux
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "lupa: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services installed here must not start on their own (they would hold ports 80/6379/11211
  # that the tests use on the host); policy-rc.d 101 refuses every service start.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
fi

# Podman needs these settings in this VM (see ../shared/PLATFORM.md).
mkdir -p /etc/containers
if ! grep -q 'default_ulimits' /etc/containers/containers.conf 2>/dev/null; then
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
CONF
fi

# tracefs is not mounted at boot here; classic tracepoints need it.
if [ ! -e /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi

# Start dockerd when it is not running.
if ! /usr/bin/docker info >/dev/null 2>&1; then
  echo "lupa: starting dockerd"
  nohup /usr/sbin/dockerd >/var/log/lupa-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    /usr/bin/docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  /usr/bin/docker info >/dev/null 2>&1 || { echo "lupa: error: dockerd did not start, see /var/log/lupa-dockerd.log" >&2; exit 1; }
fi
echo "lupa: dependencies ready"

#include "explorer/cancel.h"

#include "util/error.h"

#include <signal.h>

#include <atomic>

namespace explorer {

namespace {
std::atomic<bool> g_cancelled{false};

void on_signal(int) { g_cancelled.store(true); }
} // namespace

void install_cancel_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ::sigaction(sig, &action, nullptr);
  }
}

bool cancel_requested() { return g_cancelled.load(); }

void request_cancel() { g_cancelled.store(true); }

void throw_if_cancelled() {
  if (g_cancelled.load()) {
    throw util::Fatal("interrupted");
  }
}

} // namespace explorer

#pragma once
// Ctrl-C and SIGTERM: lupa-explore stops cleanly (every process tree ended, no partial output,
// temporary files removed) instead of dying in the middle of a probe.

namespace explorer {

// Makes SIGINT, SIGTERM and SIGHUP request cancellation instead of killing the process.
void install_cancel_handlers();

// True once cancellation was requested.
bool cancel_requested();

// Requests cancellation (as the signal handlers do).
void request_cancel();

// Throws util::Fatal("interrupted") when cancellation was requested.
void throw_if_cancelled();

} // namespace explorer

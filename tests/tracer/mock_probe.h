#pragma once
// A SyscallProbe that traces nothing: it records how it was driven and returns canned counts.

#include "tracer/probe.h"

#include <functional>
#include <memory>

namespace lupa_test {

struct MockProbeLog {
  bool started = false;
  bool stopped = false;
  int reads = 0;
  tracer::Scope scope;
  std::function<void(const tracer::Scope&)> on_start; // runs inside start()
};

class MockProbe final : public tracer::SyscallProbe {
public:
  MockProbe(std::shared_ptr<MockProbeLog> log, tracer::RawCounts counts,
            std::string start_error = {})
      : m_log(std::move(log)), m_counts(std::move(counts)), m_start_error(std::move(start_error)) {}

  util::Result<void> start(const tracer::Scope& scope, const tracer::ProbeOptions&) override {
    m_log->scope = scope;
    if (m_log->on_start) {
      m_log->on_start(scope);
    }
    if (!m_start_error.empty()) {
      return util::error(m_start_error);
    }
    m_log->started = true;
    return {};
  }
  util::Result<tracer::RawCounts> read() override {
    ++m_log->reads;
    return m_counts;
  }
  void stop() override { m_log->stopped = true; }

private:
  std::shared_ptr<MockProbeLog> m_log;
  tracer::RawCounts m_counts;
  std::string m_start_error;
};

} // namespace lupa_test

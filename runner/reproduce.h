#pragma once
// Re-running a stored experiment for `lupa reproduce`: the run's own recipe files (Dockerfile,
// recipe, test script, context) are written into a scratch build context, and `lupa generate`
// runs them again with the stored strategy and replicas, without committing. The fresh run has
// the same run id when nothing that defines the experiment changed; the environment (kernel,
// engine, image digests) shows up in the provenance diff.

#include "db/diff.h"
#include "runner/generate.h"

namespace runner {

class ContainerProducer : public db::RunProducer {
public:
  // Produces runs with `options` (engine, jobs, explorer, discovery backend; what to run and
  // where to commit are ignored).
  explicit ContainerProducer(GenerateOptions options) : m_options(std::move(options)) {}

  // A fresh run of `stored`; an error for runs without their recipe files (Loupe's).
  util::Result<db::NewRun> produce(const db::NewRun& stored) override;

private:
  GenerateOptions m_options;
};

} // namespace runner

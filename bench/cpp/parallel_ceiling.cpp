// How much faster can N workers be than one on this machine? Runs a compute-bound kernel (no
// memory traffic, no locks) through the engine's ThreadPool with 1 job and with all jobs. Every
// parallel-speed-up target in bench/RESULTS.md is read against this ceiling: virtual machines
// often give two vCPUs that are SMT siblings of one physical core.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cadence/runtime/thread_pool.h"

namespace {

double kernel(std::size_t item) {
  double s = 0.0;
  for (long i = 1; i < 20'000'000; ++i) s += std::sqrt(static_cast<double>(i + static_cast<long>(item)));
  return s;
}

double run(int jobs, std::size_t items, std::vector<double>& out) {
  cadence::runtime::ThreadPool pool(jobs);
  const auto start = std::chrono::steady_clock::now();
  pool.parallel_for(items, [&](std::size_t i) { out[i] = kernel(i); });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
  const std::size_t all = cadence::runtime::resolve_jobs(0);
  const std::size_t items = 8 * all;
  std::vector<double> one(items), many(items);
  const double t1 = run(1, items, one);
  const double tn = run(0, items, many);
  if (one != many) {
    std::puts("FAILED: results differ between 1 and all jobs");
    return 1;
  }
  std::printf("compute-bound kernel, %zu items: 1 job %.3f s, %zu jobs %.3f s, speed-up %.2fx\n",
              items, t1, all, tn, t1 / tn);
  return 0;
}

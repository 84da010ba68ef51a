#include "core/candidate_choice.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace reflex {

namespace {
std::string Fmt(const char* format, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}
// The one-sided Student-t quantile for `dof` degrees of freedom at the level whose normal
// quantile is z (Cornish-Fisher expansion): a few rows' standard error understates the noise.
double StudentQuantile(double z, double dof) {
  const double z3 = z * z * z, z5 = z3 * z * z;
  return z + (z3 + z) / (4 * dof) + (5 * z5 + 16 * z3 + 3 * z) / (96 * dof * dof);
}

}  // namespace

CandidateChoice ChooseJustifiedCandidate(const std::vector<ChoiceCandidate>& candidates, double z) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CandidateChoice c;
  c.mean_loss.assign(candidates.size(), nan);
  c.lower_bound.assign(candidates.size(), nan);
  if (candidates.empty()) return c;
  c.rows = candidates[0].losses.size();
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (!candidates[k].admissible || candidates[k].losses.size() != c.rows || c.rows == 0) continue;
    double sum = 0;
    for (double l : candidates[k].losses) sum += l;
    c.mean_loss[k] = sum / static_cast<double>(c.rows);
  }
  const double n = static_cast<double>(c.rows);
  for (size_t k = 1; k < candidates.size() && c.rows >= 2; ++k) {
    if (std::isnan(c.mean_loss[k])) continue;
    const std::vector<double>& a = candidates[c.chosen].losses;
    const std::vector<double>& b = candidates[k].losses;
    double mean = 0;
    for (size_t i = 0; i < c.rows; ++i) mean += a[i] - b[i];
    mean /= n;
    double ss = 0;
    for (size_t i = 0; i < c.rows; ++i) ss += (a[i] - b[i] - mean) * (a[i] - b[i] - mean);
    const double se = std::sqrt(ss / (n - 1) / n);
    c.lower_bound[k] = mean - StudentQuantile(z, n - 1) * se;
    if (std::isfinite(c.lower_bound[k]) && c.lower_bound[k] > 0) c.chosen = k;
  }
  c.reason = "chosen: " + candidates[c.chosen].name + " on " + std::to_string(c.rows) + " held-out rows (loss";
  for (size_t k = 0; k < candidates.size(); ++k) {
    if (std::isnan(c.mean_loss[k])) continue;
    c.reason += " " + candidates[k].name + Fmt(" %.4f", c.mean_loss[k]);
    if (!std::isnan(c.lower_bound[k])) c.reason += Fmt(" [gain bound %+.4f]", c.lower_bound[k]);
  }
  c.reason += ")";
  return c;
}

}  // namespace reflex

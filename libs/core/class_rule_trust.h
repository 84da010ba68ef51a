// Which class rules a multi-class heal may trust, and the weak class labels they give.
//
// A class rule (`=> class NAME`, rules.h) can itself be broken by drift: a pixel threshold that
// picked out trousers on clean images may fire on everything once the images get brighter. So
// a heal trusts a rule only when the evidence it has says the rule still holds:
//   - with labels: the rule fires on at least `min_labelled` labelled rows and names the true
//     class on more than half of them;
//   - without (enough) labels: its firing rate on the job's rows is within `tolerance` of its
//     firing rate on clean calibration rows (a rule with no clean rate is not trusted).
// Weak labels then come from the trusted rules only (RuleSet::WeakClassLabels).
//
// Plain functions on values; thread-safe. Units: rates are fractions of rows in [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/rules.h"
#include "core/status.h"

namespace reflex {

struct ClassRuleTrust {
  std::vector<bool> trusted;   // per rule
  std::vector<int8_t> labels;  // per row: weak class label from trusted rules, or -1
  int trusted_rules = 0, distrusted_rules = 0;
  size_t weak_rows = 0;        // rows with a weak label
};

// `rows`: n_rows x rules.dims(), row-major. `labels`: n_rows class indices or -1 (unknown), or
// nullptr. `clean_fire_rate`: per rule, its firing rate on clean rows (may be shorter than the
// rule set: then the later rules have none). InvalidArgument when `rules` is not a multi-class
// rule set.
Result<ClassRuleTrust> TrustClassRules(const RuleSet& rules, const float* rows, size_t n_rows, const int8_t* labels,
                                       const std::vector<double>& clean_fire_rate, double tolerance,
                                       size_t min_labelled = 5);

}  // namespace reflex

#include "core/class_rule_trust.h"

#include <cmath>

namespace reflex {

Result<ClassRuleTrust> TrustClassRules(const RuleSet& rules, const float* rows, size_t n_rows, const int8_t* labels,
                                       const std::vector<double>& clean_fire_rate, double tolerance,
                                       size_t min_labelled) {
  if (!rules.multiclass()) return Status::InvalidArgument("class rule trust: the rule set has no classes (a binary rule set)");
  ClassRuleTrust out;
  const size_t dims = rules.dims();
  for (size_t r = 0; r < rules.size(); ++r) {
    size_t fired = 0, labelled = 0, right = 0;
    for (size_t i = 0; i < n_rows; ++i) {
      if (!rules.Fires(r, rows + i * dims)) continue;
      ++fired;
      if (labels != nullptr && labels[i] >= 0) {
        ++labelled;
        right += labels[i] == rules.target_class(r);
      }
    }
    bool ok;
    if (labelled >= min_labelled) {
      ok = right * 2 > labelled;
    } else {
      const double rate = n_rows > 0 ? static_cast<double>(fired) / n_rows : 0.0;
      ok = r < clean_fire_rate.size() && std::fabs(rate - clean_fire_rate[r]) <= tolerance;
    }
    out.trusted.push_back(ok);
    (ok ? out.trusted_rules : out.distrusted_rules) += 1;
  }
  out.labels = rules.WeakClassLabels(rows, n_rows, &out.trusted);
  for (int8_t l : out.labels) out.weak_rows += l >= 0;
  return out;
}

}  // namespace reflex

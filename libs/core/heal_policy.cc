#include "core/heal_policy.h"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

namespace reflex {

const char* HealModeName(HealMode mode) {
  switch (mode) {
    case HealMode::kAuto: return "auto";
    case HealMode::kManual: return "manual";
    case HealMode::kFrozen: return "frozen";
  }
  return "unknown";
}

namespace {

// One policy key: how to read it, how to print it.
struct Field {
  std::function<Status(HealPolicy&, const std::string&)> set;
  std::function<std::string(const HealPolicy&)> get;
};

Result<double> ParseNumber(const std::string& key, const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("policy key '" + key + "': empty value");
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') {
    return Status::InvalidArgument("policy key '" + key + "': '" + text + "' is not a number");
  }
  if (!std::isfinite(v)) return Status::InvalidArgument("policy key '" + key + "': value must be finite");
  return v;
}

std::string Format(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// `member` belongs to one of HealPolicy's concerns (a base of HealPolicy).
template <typename T, typename Concern>
Field Number(T Concern::*member, double lo, double hi, const std::string& key) {
  Field f;
  f.set = [member, lo, hi, key](HealPolicy& p, const std::string& text) -> Status {
    Result<double> v = ParseNumber(key, text);
    if (!v.ok()) return v.status();
    if (*v < lo || *v > hi) {
      return Status::InvalidArgument("policy key '" + key + "': " + text + " is out of range [" +
                                     Format(lo) + ", " + Format(hi) + "]");
    }
    if (std::is_integral<T>::value && std::floor(*v) != *v) {
      return Status::InvalidArgument("policy key '" + key + "': " + text + " is not a whole number");
    }
    p.*member = static_cast<T>(*v);
    return Status();
  };
  f.get = [member](const HealPolicy& p) { return Format(static_cast<double>(p.*member)); };
  return f;
}

const std::map<std::string, Field>& Fields() {
  static const std::map<std::string, Field> fields = [] {
    std::map<std::string, Field> m;
    auto add = [&m](const std::string& key, auto member, double lo, double hi) {
      m[key] = Number(member, lo, hi, key);
    };
    m["mode"] = Field{
        [](HealPolicy& p, const std::string& text) -> Status {
          if (text == "auto") p.mode = HealMode::kAuto;
          else if (text == "manual") p.mode = HealMode::kManual;
          else if (text == "frozen") p.mode = HealMode::kFrozen;
          else return Status::InvalidArgument("policy key 'mode': '" + text + "' is not one of auto, manual, frozen");
          return Status();
        },
        [](const HealPolicy& p) { return std::string(HealModeName(p.mode)); }};
    m["operating_point"] = Field{
        [](HealPolicy& p, const std::string& text) -> Status {
          if (text == "none") p.operating_point = OperatingPoint::kNone;
          else if (text == "accuracy_at_f1") p.operating_point = OperatingPoint::kAccuracyAtF1;
          else if (text == "expected_accuracy_at_f1") p.operating_point = OperatingPoint::kExpectedAccuracyAtF1;
          else return Status::InvalidArgument("policy key 'operating_point': '" + text + "' is not one of none, accuracy_at_f1, expected_accuracy_at_f1");
          return Status();
        },
        [](const HealPolicy& p) { return std::string(OperatingPointName(p.operating_point)); }};
    add("fidi_threshold", &HealPolicy::fidi_threshold, 0.0, 100.0);
    add("conflict_threshold", &HealPolicy::conflict_threshold, 0.0, 1.0);
    add("prior_shift_threshold", &HealPolicy::prior_shift_threshold, 0.0, 1.0);
    add("min_rows", &HealPolicy::min_rows, 1, 1e7);
    add("cooldown_batches", &HealPolicy::cooldown_batches, 0, 1e6);
    add("cooldown_ms", &HealPolicy::cooldown_ms, 0, 1e9);
    add("window_rows", &HealPolicy::window_rows, 10, 1e6);
    add("steps", &HealPolicy::steps, 0, 10000);
    add("lr", &HealPolicy::lr, 1e-7, 1.0);
    add("distill_steps", &HealPolicy::distill_steps, 0, 10000);
    add("distill_lr", &HealPolicy::distill_lr, 1e-7, 1.0);
    add("w_label", &HealPolicy::w_label, 0.0, 1e3);
    add("label_pos_weight", &HealPolicy::label_pos_weight, -1.0, 1e3);
    add("w_rule", &HealPolicy::w_rule, 0.0, 1e3);
    add("w_entropy", &HealPolicy::w_entropy, 0.0, 1e3);
    add("entropy_filter", &HealPolicy::entropy_filter, 0.0, 10.0);
    add("w_moment", &HealPolicy::w_moment, 0.0, 1e3);
    add("w_distill", &HealPolicy::w_distill, 0.0, 1e3);
    add("w_synthetic", &HealPolicy::w_synthetic, 0.0, 1e3);
    add("w_proximal", &HealPolicy::w_proximal, 0.0, 1e3);
    add("w_diversity", &HealPolicy::w_diversity, 0.0, 1e3);
    add("align_min_shift", &HealPolicy::align_min_shift, 0.0, 100.0);
    add("align_inputs", &HealPolicy::align_inputs, 0, 1);
    add("recentre_factor", &HealPolicy::recentre_factor, 0.0, 1e3);
    add("mixture_tolerance_z", &HealPolicy::mixture_tolerance_z, 0.0, 1e3);
    add("em_agreement", &HealPolicy::em_agreement, 0.0, 1.0);
    add("rule_trust_tolerance", &HealPolicy::rule_trust_tolerance, 0.0, 1.0);
    add("positive_rate_tolerance", &HealPolicy::positive_rate_tolerance, 0.0, 100.0);
    add("max_moment_ratio", &HealPolicy::max_moment_ratio, 0.0, 100.0);
    add("max_rule_agreement_drop", &HealPolicy::max_rule_agreement_drop, 0.0, 1.0);
    add("max_label_loss_ratio", &HealPolicy::max_label_loss_ratio, 0.0, 100.0);
    add("operating_f1_tolerance", &HealPolicy::operating_f1_tolerance, 0.0, 1.0);
    add("holdout_fraction", &HealPolicy::holdout_fraction, 0.0, 0.9);
    add("confidence_z", &HealPolicy::confidence_z, 0.0, 10.0);
    add("max_class_tv", &HealPolicy::max_class_tv, 0.0, 1.0);
    add("rollback_f1_drop", &HealPolicy::rollback_f1_drop, 0.0, 1.0);
    add("label_accuracy_drop", &HealPolicy::label_accuracy_drop, 0.0, 1.0);
    add("drift_gone_batches", &HealPolicy::drift_gone_batches, 1, 1e6);
    return m;
  }();
  return fields;
}

}  // namespace

Status HealPolicy::Set(const std::string& key, const std::string& value) {
  const auto& fields = Fields();
  auto it = fields.find(key);
  if (it == fields.end()) {
    return Status::InvalidArgument("unknown policy key '" + key + "' (see `policy show` for the keys)");
  }
  HealPolicy candidate = *this;
  REFLEX_RETURN_IF_ERROR(it->second.set(candidate, value));
  REFLEX_RETURN_IF_ERROR(candidate.Validate());
  *this = candidate;
  return Status();
}

std::map<std::string, std::string> HealPolicy::ToMap() const {
  std::map<std::string, std::string> out;
  for (const auto& [key, field] : Fields()) out[key] = field.get(*this);
  return out;
}

std::vector<std::string> HealPolicy::Keys() {
  std::vector<std::string> keys;
  for (const auto& [key, field] : Fields()) keys.push_back(key);
  return keys;
}

Status HealPolicy::Validate() const {
  if (min_rows > window_rows) {
    return Status::InvalidArgument("policy: min_rows " + std::to_string(min_rows) +
                                   " exceeds window_rows " + std::to_string(window_rows) +
                                   ": a heal could never start");
  }
  return Status();
}

}  // namespace reflex

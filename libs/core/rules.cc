#include "core/rules.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>
#include <utility>

#include "core/rule_parser.h"

namespace reflex {

RuleSet::RuleSet(RuleProgram program, std::vector<std::string> feature_names, std::vector<std::string> class_names)
    : program_(std::move(program)), feature_names_(std::move(feature_names)), class_names_(std::move(class_names)) {}

Result<RuleSet> RuleSet::Parse(const std::string& text,
                               const std::vector<std::string>& feature_names,
                               const std::string& source_name,
                               const std::vector<std::string>& class_names) {
  Result<RuleProgram> program = ParseRuleProgram(text, feature_names, source_name, class_names);
  if (!program.ok()) return program.status();
  return RuleSet(std::move(program).value(), feature_names, class_names);
}

Result<RuleSet> RuleSet::LoadFile(const std::string& path,
                                  const std::vector<std::string>& feature_names,
                                  const std::vector<std::string>& class_names) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IoError("cannot read rules file '" + path + "': it is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return Status::IoError("cannot open rules file '" + path + "': " +
                           (error != 0 ? std::strerror(error) : "unknown error"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("cannot read rules file '" + path + "'");
  return Parse(text.str(), feature_names, path, class_names);
}

void RuleSet::CheckRule(size_t rule) const {
  if (rule >= program_.rules.size()) {
    std::cerr << "RuleSet: rule index " << rule << " out of range (" << program_.rules.size()
              << " rules)\n";
    std::abort();
  }
}

void RuleSet::CheckKind(bool want_multiclass, const char* what) const {
  if (multiclass() != want_multiclass) {
    std::cerr << "RuleSet::" << what << ": called on a " << (multiclass() ? "multi-class" : "binary")
              << " rule set\n";
    std::abort();
  }
}

void RuleSet::CheckEnabled(const std::vector<bool>* enabled, const char* what) const {
  if (enabled != nullptr && enabled->size() != size()) {
    std::cerr << "RuleSet::" << what << ": enabled has " << enabled->size() << " entries for "
              << size() << " rules\n";
    std::abort();
  }
}

const std::string& RuleSet::name(size_t rule) const {
  CheckRule(rule);
  return program_.rules[rule].name;
}

RuleOutcome RuleSet::outcome(size_t rule) const {
  CheckRule(rule);
  return program_.rules[rule].outcome;
}

int32_t RuleSet::target_class(size_t rule) const {
  CheckRule(rule);
  const Rule& r = program_.rules[rule];
  return r.outcome == RuleOutcome::kClass ? static_cast<int32_t>(r.class_index) : -1;
}

std::string RuleSet::ToString(size_t rule) const {
  CheckRule(rule);
  const Rule& r = program_.rules[rule];
  std::string outcome = RuleOutcomeText(r.outcome);
  if (r.outcome == RuleOutcome::kClass) {
    const std::string& name = class_names_[r.class_index];
    outcome += IsBareRuleClassName(name) ? " " + name : " \"" + name + "\"";
  }
  return "rule " + r.name + ": " + RuleExprToString(program_.nodes, r.root, feature_names_) +
         " => " + outcome;
}

std::string RuleSet::ToText() const {
  std::string text;
  for (size_t i = 0; i < size(); ++i) text += ToString(i) + "\n";
  return text;
}

RuleSet::BatchStats RuleSet::Evaluate(const float* rows, size_t n_rows, const float* probs,
                                      double conflict_threshold) const {
  if (probs != nullptr) CheckKind(false, "Evaluate with probabilities");
  BatchStats stats;
  stats.rows = n_rows;
  stats.fired.assign(size(), 0);
  stats.conflicts.assign(size(), 0);
  const size_t d = dims();
  const double high = 1.0 - conflict_threshold;
  for (size_t i = 0; i < size(); ++i) {
    const Rule& rule = program_.rules[i];
    const bool positive = rule.outcome == RuleOutcome::kPositive;
    uint64_t fired = 0, conflicts = 0;
    for (size_t r = 0; r < n_rows; ++r) {
      if (!EvalRuleNode(program_.nodes, rule.root, rows + r * d)) continue;
      ++fired;
      if (probs != nullptr) {
        const double p = probs[r];
        if (positive ? p < conflict_threshold : p > high) ++conflicts;
      }
    }
    stats.fired[i] = fired;
    stats.conflicts[i] = conflicts;
  }
  return stats;
}

RuleSet::BatchStats RuleSet::EvaluateClasses(const float* rows, size_t n_rows, const float* class_probs) const {
  CheckKind(true, "EvaluateClasses");
  BatchStats stats;
  stats.rows = n_rows;
  stats.fired.assign(size(), 0);
  stats.conflicts.assign(size(), 0);
  const size_t d = dims(), k = class_names_.size();
  for (size_t i = 0; i < size(); ++i) {
    const Rule& rule = program_.rules[i];
    for (size_t r = 0; r < n_rows; ++r) {
      if (!EvalRuleNode(program_.nodes, rule.root, rows + r * d)) continue;
      ++stats.fired[i];
      if (class_probs == nullptr) continue;
      const float* p = class_probs + r * k;
      const size_t predicted = static_cast<size_t>(std::max_element(p, p + k) - p);
      if (predicted != rule.class_index) ++stats.conflicts[i];
    }
  }
  return stats;
}

std::vector<int8_t> RuleSet::WeakClassLabels(const float* rows, size_t n_rows,
                                             const std::vector<bool>* enabled) const {
  CheckKind(true, "WeakClassLabels");
  CheckEnabled(enabled, "WeakClassLabels");
  if (class_names_.size() > 127) {
    std::cerr << "RuleSet::WeakClassLabels: " << class_names_.size() << " classes do not fit a weak label\n";
    std::abort();
  }
  std::vector<int8_t> labels(n_rows, -1);
  const size_t d = dims();
  for (size_t r = 0; r < n_rows; ++r) {
    int32_t label = -1;  // -2: rules disagree
    for (size_t i = 0; i < size() && label != -2; ++i) {
      if (enabled != nullptr && !(*enabled)[i]) continue;
      const Rule& rule = program_.rules[i];
      const int32_t c = static_cast<int32_t>(rule.class_index);
      if (label == c || !EvalRuleNode(program_.nodes, rule.root, rows + r * d)) continue;
      label = label == -1 ? c : -2;
    }
    if (label >= 0) labels[r] = static_cast<int8_t>(label);
  }
  return labels;
}

std::vector<int8_t> RuleSet::WeakLabels(const float* rows, size_t n_rows,
                                        const std::vector<bool>* enabled) const {
  CheckKind(false, "WeakLabels");
  CheckEnabled(enabled, "WeakLabels");
  std::vector<int8_t> labels(n_rows, -1);
  const size_t d = dims();
  for (size_t r = 0; r < n_rows; ++r) {
    const float* row = rows + r * d;
    bool any_positive = false, any_negative = false;
    for (size_t i = 0; i < size() && !(any_positive && any_negative); ++i) {
      if (enabled != nullptr && !(*enabled)[i]) continue;
      const Rule& rule = program_.rules[i];
      bool& seen = rule.outcome == RuleOutcome::kPositive ? any_positive : any_negative;
      if (seen) continue;  // this rule cannot change the label
      if (EvalRuleNode(program_.nodes, rule.root, row)) seen = true;
    }
    if (any_positive != any_negative) labels[r] = any_positive ? 1 : 0;
  }
  return labels;
}

}  // namespace reflex

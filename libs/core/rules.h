// RuleSet: symbolic rules over a row of named features, used as a drift signal (how often a
// rule and the model disagree) and as a source of weak labels.
//
//   # comment (whole line or trailing)
//   rule v14_low: V14 < -1.5 => positive
//   rule calm: not (V3 > 2 or V4 > 2) and V1 >= 0 => negative
//   rule wide_base: px770 > 0.3 and px780 > 0.3 => class "Ankle boot"   (multi-class models)
//
// The full grammar is in rule_parser.h. A rule "fires" on a row when its expression holds.
// Binary models: a conflict is a row where a positive rule fires but the model's probability is
// below the conflict threshold, or a negative rule fires and the probability is above
// 1 - threshold. Multi-class models (a rule set parsed with class names): a conflict is a row
// where a class rule fires and the model's most probable class is another class.
//
// Ownership: a RuleSet is a value (copyable, movable) that owns its compiled rules and the
// feature names. Thread-safety: immutable after Parse, so any number of threads may evaluate
// one concurrently. Units: rows are row-major float matrices with dims() columns in the order
// of the feature names given to Parse; probabilities are P(positive) in [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rule_ast.h"
#include "core/status.h"

namespace reflex {

class RuleSet {
 public:
  // An empty rule set over no features.
  RuleSet() = default;

  // Parses rule text against the input's column names. InvalidArgument on the first error,
  // as "<source_name>:<line>:<col>: expected <what>, found '<token>'" and the like.
  // `class_names` are a multi-class model's classes (then every rule ends in 'class NAME');
  // empty for a binary model (then every rule ends in positive or negative).
  static Result<RuleSet> Parse(const std::string& text,
                               const std::vector<std::string>& feature_names,
                               const std::string& source_name = "<rules>",
                               const std::vector<std::string>& class_names = {});
  // Parse() of a file's contents; messages name the file. A file that cannot be read is an
  // IoError naming the path.
  static Result<RuleSet> LoadFile(const std::string& path,
                                  const std::vector<std::string>& feature_names,
                                  const std::vector<std::string>& class_names = {});

  size_t size() const { return program_.rules.size(); }
  bool empty() const { return program_.rules.empty(); }
  // Number of features a row has.
  size_t dims() const { return feature_names_.size(); }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // Multi-class rule sets: the model's class names (empty for a binary rule set).
  const std::vector<std::string>& class_names() const { return class_names_; }
  bool multiclass() const { return !class_names_.empty(); }

  // `rule` < size() in all accessors below; anything else aborts.
  const std::string& name(size_t rule) const;
  RuleOutcome outcome(size_t rule) const;
  // The class a class rule names (index into class_names()); -1 for a positive/negative rule.
  int32_t target_class(size_t rule) const;
  // Canonical text, e.g. "rule v14_low: V14 < -1.5 => positive" or
  // "rule r: px3 > 0.5 => class \"T-shirt/top\"". Parses back to the same rule.
  std::string ToString(size_t rule) const;
  // Every rule's canonical text, one per line (each line ends in '\n').
  std::string ToText() const;

  // True when the rule's expression holds for `row` (dims() values).
  bool Fires(size_t rule, const float* row) const {
    CheckRule(rule);
    return EvalRuleNode(program_.nodes, program_.rules[rule].root, row);
  }

  struct BatchStats {
    uint64_t rows = 0;
    std::vector<uint64_t> fired;      // per rule: rows it fired on
    std::vector<uint64_t> conflicts;  // per rule: rows it fired on and the model disagreed
  };
  // Counts firings and conflicts over row-major `rows` (n_rows x dims()). `probs` holds the
  // model's P(positive) per row, or is nullptr to count firings only. A multi-class rule set
  // counts firings only here (use EvaluateClasses); passing `probs` to one aborts.
  BatchStats Evaluate(const float* rows, size_t n_rows, const float* probs,
                      double conflict_threshold) const;
  // Multi-class rule sets: counts firings and conflicts (a class rule fires and the model's
  // most probable class differs). `class_probs` is n_rows x class_names().size(), row-major, or
  // nullptr to count firings only. Aborts on a binary rule set.
  BatchStats EvaluateClasses(const float* rows, size_t n_rows, const float* class_probs) const;

  // Weak label per row from the enabled rules (`enabled` == nullptr means all; otherwise it
  // has size() entries): 1 if only positive rules fire, 0 if only negative rules fire, -1 if
  // none fire or positive and negative rules disagree.
  std::vector<int8_t> WeakLabels(const float* rows, size_t n_rows,
                                 const std::vector<bool>* enabled = nullptr) const;
  // Multi-class rule sets: weak class label per row from the enabled rules: the class when
  // every enabled rule that fires names the same class, -1 when none fires or they disagree.
  // Aborts on a binary rule set, or one of more than 127 classes.
  std::vector<int8_t> WeakClassLabels(const float* rows, size_t n_rows,
                                      const std::vector<bool>* enabled = nullptr) const;

 private:
  RuleSet(RuleProgram program, std::vector<std::string> feature_names, std::vector<std::string> class_names);
  void CheckRule(size_t rule) const;
  void CheckKind(bool want_multiclass, const char* what) const;
  void CheckEnabled(const std::vector<bool>* enabled, const char* what) const;

  RuleProgram program_;
  std::vector<std::string> feature_names_;
  std::vector<std::string> class_names_;
};

}  // namespace reflex

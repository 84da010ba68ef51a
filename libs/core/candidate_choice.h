// Candidate choice: which of a labelled heal's candidates becomes the next version.
//
// A labelled heal builds several candidates; the caller orders them, the default first (the
// healer puts the candidate the heal makes with the labels hidden first, then the parent,
// version 0 and the labels-driven one). Each is scored on the same held-out labelled rows,
// which none of them trained on. The default is kept unless another is better by more than its
// noise: walking the order, candidate k replaces the incumbent when the
// one-sided lower confidence bound of the *paired* per-row improvement,
//     mean(loss_incumbent - loss_k) - t(z, n - 1) * sd(loss_incumbent - loss_k) / sqrt(n),
// is above zero, where t(z, n - 1) is the Student-t quantile at the level of the normal quantile
// z (equal to z for many rows, larger for a few). Pairing removes the rows' own difficulty from the noise, so a few hundred rows
// separate candidates whose mean losses differ by a few percent; a handful of rows (or noisy
// labels) separate nothing, and the default stays.
//
// Pure function over caller-owned values; thread-compatible. Losses are per-row losses (nats, or
// 0/1 errors), z is in standard errors (1.645: one-sided 95%).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace reflex {

struct ChoiceCandidate {
  std::string name;            // for the reason ("parent", "label-free", ...)
  bool admissible = true;      // false: not built, or refused by its own gate; never chosen
  std::vector<double> losses;  // per held-out row; every admissible candidate has the same rows
};

struct CandidateChoice {
  size_t chosen = 0;               // index into the candidates; 0 (the first) when none is justified
  size_t rows = 0;                 // held-out rows compared
  std::vector<double> mean_loss;   // per candidate (NaN when not admissible)
  // Per candidate: the lower bound of its paired improvement over the incumbent it was compared
  // with (NaN when it was not compared: not admissible, the first, or fewer than 2 rows).
  std::vector<double> lower_bound;
  std::string reason;              // "chosen: NAME (...)"
};

// candidates[0] is the incumbent to start from and must be admissible.
CandidateChoice ChooseJustifiedCandidate(const std::vector<ChoiceCandidate>& candidates, double z);

}  // namespace reflex

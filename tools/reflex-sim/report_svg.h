// The SVG charts of the reflex-sim HTML report (report_html.h), drawn as text: per-batch accuracy
// of each arm with heal, rollback and rejection markers, per-batch F1 of each arm, and FIDI z
// against its threshold. Drifted batches are shaded in all three.
//
// Each chart is one "<svg viewBox=... width=100%>" element that scales to its container; it has
// no script, no external reference and no xmlns (it is meant to be inlined in HTML). Text from
// the SimResult is HTML-escaped. Pure functions of their input, safe from any thread. Accuracy
// axes are in percent, F1 in [0, 1], FIDI z in standard deviations; x is the 0-based batch.
#pragma once

#include <string>

#include "reflex-sim/sim_result.h"

namespace reflex::sim::svg {

std::string AccuracyChart(const SimResult& result);
std::string F1Chart(const SimResult& result);
std::string FidiChart(const SimResult& result);

// The colour an arm is drawn in: fixed for the four known arms, else by its place in arm_order.
std::string ArmColour(const SimResult& result, const std::string& arm);

// printf into a std::string (C locale, as the process starts; Reflex never changes it).
std::string Printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace reflex::sim::svg

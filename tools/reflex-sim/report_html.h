// The HTML report of one reflex-sim run: a single self-contained page (inline CSS and inline SVG
// drawn here; no scripts, fonts or other external resources).
//
// The page shows the run's scenario and seed, the results table, three charts (per-batch
// accuracy of each arm with heal, rollback and rejection markers; FIDI z against its threshold
// with drifted batches shaded; per-batch F1 of each arm), the events table, the published
// figures and the notes. All text from the SimResult is HTML-escaped. The charts come from
// report_svg.h.
//
// Pure function of its input (identical results give identical bytes); keeps no reference to it;
// safe from any thread. Accuracy is shown in percent, F1 as a fraction, FIDI z in standard
// deviations.
#pragma once

#include <string>

#include "reflex-sim/sim_result.h"

namespace reflex::sim {

// The whole page, "<!DOCTYPE html>" to "</html>\n".
std::string ReportHtml(const SimResult& result);

// `text` with &, <, >, " and ' replaced by character references.
std::string HtmlEscape(const std::string& text);

}  // namespace reflex::sim

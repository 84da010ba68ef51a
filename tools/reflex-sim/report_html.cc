#include "reflex-sim/report_html.h"

#include <algorithm>
#include <string>

#include "reflex-sim/report_svg.h"
#include "reflex-sim/report_writer.h"

namespace reflex::sim {
namespace {

using svg::ArmColour;
using svg::Printf;

constexpr char kStyle[] = R"(
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f6f8}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:28px 16px 48px}
h1{font-size:26px;font-weight:600;margin:0 0 4px}
h2{font-size:17px;font-weight:600;margin:0 0 2px}
.sub,.caption{color:var(--muted);margin:0}
.caption{font-size:13px;margin-bottom:8px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin-top:16px}
.scroll{overflow-x:auto}
.events{max-height:520px;overflow-y:auto}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:13px;font-weight:600;color:var(--muted);background:#fff;position:sticky;top:0;vertical-align:bottom}
td.arm{white-space:nowrap}
td.labels{min-width:11em}
td.reason{min-width:18em}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sw{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:8px}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:13px;color:var(--muted);margin:6px 0}
.legend b{font-weight:400;color:var(--ink)}
.ln{display:inline-block;width:20px;border-top:2.5px solid;vertical-align:middle;margin-right:6px}
.drift{display:inline-block;width:14px;height:11px;margin-right:6px;background:#fbe3e3}
.badge{display:inline-block;padding:0 8px;border-radius:9px;font-size:12px;font-weight:600}
.heal{background:#e3f4e8;color:#22663a}.rejection{background:#fdf0d9;color:#8a5a00}
.rollback{background:#fbe3e3;color:#9b2c2c}.other{background:#eceff3;color:#3e4c59}
.details{color:var(--muted);font-size:12px}
ul.notes{margin:12px 0 0;padding-left:18px;color:var(--muted);font-size:13px}
svg{display:block;width:100%;height:auto;min-width:640px}
svg text{font-family:inherit;font-size:12px;fill:#616e7c}
)";

std::string ArmLegend(const SimResult& r, bool markers) {
  std::string s = "<div class=\"legend\">";
  for (const std::string& arm : r.arm_order) {
    s += Printf("<span><i class=\"ln\" style=\"color:%s%s\"></i><b>", ArmColour(r, arm).c_str(),
                arm == "oracle" ? ";border-top-style:dashed" : "") +
         HtmlEscape(arm) + "</b></span>";
  }
  if (markers) {
    s += "<span>&#9650; heal</span><span>&#10005; rollback</span><span>&#9675; rejection</span>";
    if (r.published) s += "<span>&#8943; Bayes ceiling</span>";
  }
  return s + "<span><i class=\"drift\"></i>drift flagged</span></div>\n";
}

std::string SummaryTableHtml(const SimResult& r) {
  SummaryTable table = BuildSummaryTable(r);
  std::string s = "<div class=\"scroll\"><table>\n<thead><tr>";
  for (size_t i = 0; i < table.header.size(); ++i) {
    s += std::string(table.numeric[i] ? "<th class=\"num\">" : "<th>") +
         HtmlEscape(table.header[i]) + "</th>";
  }
  s += "</tr></thead>\n<tbody>\n";
  for (size_t row = 0; row < table.rows.size(); ++row) {
    s += "<tr>";
    for (size_t i = 0; i < table.header.size(); ++i) {
      s += table.numeric[i] ? "<td class=\"num\">"
           : i == 0         ? "<td class=\"arm\">"
                            : "<td class=\"labels\">";
      if (i == 0)
        s += "<i class=\"sw\" style=\"background:" + ArmColour(r, r.arm_order[row]) + "\"></i>";
      s += HtmlEscape(table.rows[row][i]) + "</td>";
    }
    s += "</tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

std::string EventsTableHtml(const SimResult& r) {
  if (r.events.empty()) return "<p class=\"caption\">No heals, rejections or rollbacks.</p>\n";
  std::string s =
      "<div class=\"scroll events\"><table>\n<thead><tr><th class=\"num\">batch</th><th>arm</th>"
      "<th>kind</th><th>version</th><th>reason</th></tr></thead>\n<tbody>\n";
  for (const SimEvent& e : r.events) {
    std::string badge =
        e.kind == "heal" || e.kind == "rejection" || e.kind == "rollback" ? e.kind : "other";
    std::string version = e.kind == "rejection" ? "v" + std::to_string(e.version) + " refused, v" +
                                                      std::to_string(e.from_version) + " kept"
                                                : "v" + std::to_string(e.from_version) +
                                                      " \xE2\x86\x92 v" + std::to_string(e.version);
    std::string details;
    for (const auto& [key, value] : e.details) {
      details +=
          (details.empty() ? "" : " \xC2\xB7 ") + HtmlEscape(key) + " " + Printf("%.4g", value);
    }
    s += "<tr><td class=\"num\">" + std::to_string(e.batch) +
         "</td><td class=\"arm\"><i class=\"sw\" style=\"background:" + ArmColour(r, e.arm) +
         "\"></i>" + HtmlEscape(e.arm) + "</td><td><span class=\"badge " + badge + "\">" +
         HtmlEscape(e.kind) + "</span></td><td class=\"arm\">" + version +
         "</td><td class=\"reason\">" + HtmlEscape(e.reason) +
         (details.empty() ? "" : "<div class=\"details\">" + details + "</div>") + "</td></tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

// Charts keep a readable size on narrow screens and scroll sideways there.
std::string Scroll(const std::string& svg) { return "<div class=\"scroll\">\n" + svg + "</div>\n"; }

std::string Section(const std::string& title, const std::string& caption, const std::string& body) {
  return "<section>\n<h2>" + title + "</h2>\n" +
         (caption.empty() ? "" : "<p class=\"caption\">" + caption + "</p>\n") + body +
         "</section>\n";
}

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ReportHtml(const SimResult& r) {
  const std::string scenario = HtmlEscape(r.scenario), seed = std::to_string(r.seed);
  std::string meta = "scenario <b>" + scenario + "</b> \xC2\xB7 seed <b>" + seed +
                     "</b> \xC2\xB7 " + std::to_string(r.batches.size()) +
                     (r.batches.size() == 1 ? " batch" : " batches") + " \xC3\x97 " +
                     std::to_string(r.batch_size) + " rows \xC2\xB7 FIDI threshold " +
                     Printf("%g", r.fidi_threshold);
  if (r.cost_fp) meta += " \xC2\xB7 cost of a false positive " + Printf("%g", *r.cost_fp);
  if (r.cost_fn) meta += " \xC2\xB7 cost of a false negative " + Printf("%g", *r.cost_fn);
  std::string notes;
  for (const std::string& line : TableFootnotes(r)) notes += "<li>" + HtmlEscape(line) + "</li>";
  if (!notes.empty()) notes = "<ul class=\"notes\">" + notes + "</ul>\n";

  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<title>reflex-sim: " +
      scenario + ", seed " + seed + "</title>\n<style>" + kStyle +
      "</style>\n</head>\n<body>\n<main>\n";
  s += "<header>\n<h1>reflex-sim: " + scenario + ", seed " + seed + "</h1>\n<p class=\"sub\">" +
       meta + "</p>\n</header>\n";
  s += Section("Results",
               "Totals over the stream; each batch was scored before any arm learned from it.",
               SummaryTableHtml(r) + notes);
  s += Section("Accuracy per batch",
               "Markers sit on the arm that acted, at the batch after which it acted.",
               ArmLegend(r, true) + Scroll(svg::AccuracyChart(r)));
  s += Section(
      "Drift",
      "Largest FIDI z over the monitored features after each batch; shaded batches are "
      "flagged as drifted.",
      "<div class=\"legend\"><span><i class=\"ln\" style=\"color:#3e4c59\"></i><b>FIDI z</b></span>"
      "<span><i class=\"ln\" style=\"color:#c0392b;border-top-style:dashed\"></i>threshold</span>"
      "<span><i class=\"drift\"></i>drift flagged</span></div>\n" +
          Scroll(svg::FidiChart(r)));
  s += Section("F1 per batch", "", ArmLegend(r, false) + Scroll(svg::F1Chart(r)));
  s += Section("Events", "Heals, rejections by the validation gate, and rollbacks, in order.",
               EventsTableHtml(r));
  return s + "</main>\n</body>\n</html>\n";
}

}  // namespace reflex::sim

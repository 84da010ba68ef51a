#include "reflex-sim/report_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "reflex-sim/report_html.h"

namespace reflex::sim::svg {
namespace {

// Chart geometry in viewBox units; the SVG scales to the width of its container.
constexpr double kWidth = 1100, kHeight = 300;
constexpr double kLeft = 64, kRight = 20, kTop = 14, kBottom = 46;

std::string ColourAt(const std::string& arm, size_t index) {
  static const std::map<std::string, std::string> kKnown = {{"frozen", "#8a939e"},
                                                            {"healed_labels", "#2f6fb3"},
                                                            {"healed_label_free", "#d4822a"},
                                                            {"oracle", "#3b8f5a"}};
  static const char* kOthers[] = {"#7b5ea7", "#c2477a", "#2a9d9a", "#9c6b3d", "#5c6bc0"};
  auto found = kKnown.find(arm);
  return found != kKnown.end() ? found->second : kOthers[index % 5];
}

// Maps data to viewBox coordinates for one chart.
struct Frame {
  double x0, x1, y0, y1;
  double X(double x) const { return kLeft + (x - x0) / (x1 - x0) * (kWidth - kLeft - kRight); }
  double Y(double y) const {
    return kHeight - kBottom - (y - y0) / (y1 - y0) * (kHeight - kTop - kBottom);
  }
};

// The smallest of 1, 2, 2.5, 5 times a power of ten that splits `span` into at most `most` steps.
double NiceStep(double span, int most, bool integral = false) {
  double power = std::pow(10.0, std::floor(std::log10(std::max(span, 1e-12) / most)));
  if (integral) power = std::max(power, 1.0);
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (integral && m == 2.5 && power < 10) continue;
    if (span / (m * power) <= most) return m * power;
  }
  return 10 * power;
}

Frame BatchFrame(const SimResult& r, double y0, double y1) {
  double first = r.batches.empty() ? 0 : static_cast<double>(r.batches.front().batch);
  double last = r.batches.empty() ? 0 : static_cast<double>(r.batches.back().batch);
  return {first - 0.5, last + 0.5, y0, y1};
}

// A horizontal line across the plot at data value `y`, labelled at its right end.
std::string Rule(const Frame& f, double y, const char* style, const char* colour,
                 const std::string& label) {
  return Printf(
      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" %s/>\n"
      "<text x=\"%.1f\" y=\"%.1f\" dy=\"-5\" text-anchor=\"end\" style=\"fill:%s\">%s</text>\n",
      kLeft, kWidth - kRight, f.Y(y), f.Y(y), colour, style, kWidth - kRight - 4, f.Y(y), colour,
      label.c_str());
}

// Opens the SVG and draws drift bands, grid, ticks and axis titles.
std::string Axes(const SimResult& r, const Frame& f, const char* label, double y_step,
                 const char* y_format, double y_scale, const char* y_title, const char* band) {
  std::string s =
      Printf("<svg viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" aria-label=\"%s\">\n",
             kWidth, kHeight, label);
  for (size_t i = 0; i < r.batches.size(); ++i) {  // one band per run of drifted batches
    if (!r.batches[i].drift) continue;
    size_t end = i;
    while (end + 1 < r.batches.size() && r.batches[end + 1].drift &&
           r.batches[end + 1].batch == r.batches[end].batch + 1) {
      ++end;
    }
    double x = f.X(r.batches[i].batch - 0.5), w = f.X(r.batches[end].batch + 0.5) - x;
    s += Printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", x,
                kTop, w, kHeight - kTop - kBottom, band);
    i = end;
  }
  for (double y = y_step * std::ceil(f.y0 / y_step - 1e-9); y <= f.y1 + 1e-9; y += y_step) {
    if (std::fabs(y) < 1e-9 * y_step) y = 0;  // no "-0"
    s += Printf("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e7eb\"/>\n",
                kLeft, kWidth - kRight, f.Y(y), f.Y(y));
    s += Printf("<text x=\"%.1f\" y=\"%.1f\" dy=\"4\" text-anchor=\"end\">", kLeft - 8, f.Y(y)) +
         Printf(y_format, y * y_scale) + "</text>\n";
  }
  const double base = kHeight - kBottom, x_step = NiceStep(f.x1 - f.x0, 12, true);
  for (double x = x_step * std::ceil(f.x0 / x_step); x <= f.x1; x += x_step) {
    if (x == 0) x = 0;  // no "-0"
    s += Printf(
        "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa5b1\"/>\n"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
        f.X(x), f.X(x), base, base + 5, f.X(x), base + 19, x);
  }
  s += Printf("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#9aa5b1\"/>\n", kLeft,
              kWidth - kRight, base, base);
  s += Printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">batch</text>\n",
              (kLeft + kWidth - kRight) / 2, kHeight - 6);
  s += Printf(
      "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
      (kTop + base) / 2, y_title);
  if (r.batches.empty()) {
    s += Printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no batches</text>\n",
                kWidth / 2, kHeight / 2);
  }
  return s;
}

// Polylines through (batch, value) points, broken where a value is missing or not finite; a lone
// point becomes a dot.
using Series = std::vector<std::pair<double, std::optional<double>>>;
std::string Line(const Frame& f, const Series& points, const std::string& colour, bool dashed) {
  std::string s, run;
  size_t count = 0;
  double first_x = 0, first_y = 0;
  auto flush = [&] {
    if (count == 1) {
      s += Printf("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", first_x, first_y,
                  colour.c_str());
    } else if (count > 1) {
      s += Printf(
          "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s "
          "points=\"%s\"/>\n",
          colour.c_str(), dashed ? " stroke-dasharray=\"7 4\"" : "", run.c_str());
    }
    run.clear();
    count = 0;
  };
  for (const auto& [x, y] : points) {
    if (!y || !std::isfinite(*y)) {
      flush();
      continue;
    }
    if (count == 0) first_x = f.X(x), first_y = f.Y(*y);
    run += Printf(count++ ? " %.1f,%.1f" : "%.1f,%.1f", f.X(x), f.Y(*y));
  }
  flush();
  return s;
}

// A heal (triangle), rollback (cross) or rejection (hollow circle) at (x, y), with a tooltip.
std::string Marker(const SimEvent& e, const std::string& colour, double x, double y) {
  std::string title = "<title>batch " + std::to_string(e.batch) + " \xC2\xB7 " + HtmlEscape(e.arm) +
                      " \xC2\xB7 " + HtmlEscape(e.kind) + " v" + std::to_string(e.version) + ": " +
                      HtmlEscape(e.reason) + "</title>";
  const char* c = colour.c_str();
  if (e.kind == "heal") {
    return Printf(
               "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\" stroke=\"#fff\" "
               "stroke-width=\"1.5\">",
               x, y - 8, x + 6.5, y + 4, x - 6.5, y + 4, c) +
           title + "</path>\n";
  }
  if (e.kind == "rollback") {
    std::string d = Printf("M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f", x - 5, y - 5, x + 5, y + 5,
                           x - 5, y + 5, x + 5, y - 5);
    return "<g stroke-linecap=\"round\">" + title +
           Printf(
               "<path d=\"%s\" stroke=\"#fff\" stroke-width=\"5\"/><path d=\"%s\" stroke=\"%s\" "
               "stroke-width=\"2.5\"/></g>\n",
               d.c_str(), d.c_str(), c);
  }
  if (e.kind == "rejection") {
    return Printf(
               "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"#fff\" stroke=\"%s\" "
               "stroke-width=\"2\">",
               x, y, c) +
           title + "</circle>\n";
  }
  return "";
}

// Per-batch accuracy (with event markers) or F1 of each arm.
std::string ArmChart(const SimResult& r, bool accuracy) {
  Frame f = BatchFrame(r, 0, 1);
  std::string s = accuracy
                      ? Axes(r, f, "accuracy per batch", 0.2, "%.0f%%", 100, "accuracy", "#fdf1f1")
                      : Axes(r, f, "F1 per batch", 0.2, "%.1f", 1, "F1", "#fdf1f1");
  if (accuracy && r.published) {
    double ceiling = r.published->bayes_ceiling_accuracy;
    s += Rule(f, ceiling, "stroke-dasharray=\"2 4\"", "#52606d",
              Printf("Bayes ceiling %.1f%%", 100 * ceiling));
  }
  std::map<std::pair<std::string, size_t>, double> at;  // (arm, batch) -> accuracy
  for (const std::string& arm : r.arm_order) {
    Series points;
    for (const BatchRecord& b : r.batches) {
      auto found = b.arms.find(arm);
      std::optional<double> y;
      if (found != b.arms.end()) y = accuracy ? found->second.accuracy : found->second.f1;
      if (y) at[{arm, b.batch}] = *y;
      points.emplace_back(static_cast<double>(b.batch), y);
    }
    s += Line(f, points, ArmColour(r, arm), arm == "oracle");
  }
  for (const SimEvent& e : r.events) {
    auto found = at.find({e.arm, e.batch});
    if (!accuracy || found == at.end() || !std::isfinite(found->second)) continue;
    s += Marker(e, ArmColour(r, e.arm), f.X(e.batch), f.Y(found->second));
  }
  return s + "</svg>\n";
}

}  // namespace

std::string Printf(const char* format, ...) {
  va_list args, copy;
  va_start(args, format);
  va_copy(copy, args);
  std::string out(std::max(0, std::vsnprintf(nullptr, 0, format, copy)), '\0');
  va_end(copy);
  std::vsnprintf(out.data(), out.size() + 1, format, args);
  va_end(args);
  return out;
}

std::string ArmColour(const SimResult& r, const std::string& arm) {
  auto order = std::find(r.arm_order.begin(), r.arm_order.end(), arm);
  return ColourAt(arm, static_cast<size_t>(order - r.arm_order.begin()));
}

std::string AccuracyChart(const SimResult& result) { return ArmChart(result, true); }

std::string F1Chart(const SimResult& result) { return ArmChart(result, false); }

// FIDI z per batch against the drift threshold, drifted batches shaded.
std::string FidiChart(const SimResult& r) {
  double lo = 0, hi = std::max(r.fidi_threshold, 0.0);
  for (const BatchRecord& b : r.batches) {
    if (std::isfinite(b.fidi_z)) lo = std::min(lo, b.fidi_z), hi = std::max(hi, b.fidi_z);
  }
  if (hi - lo <= 0) hi = lo + 1;
  double step = NiceStep((hi - lo) * 1.08, 5);
  Frame f = BatchFrame(r, step * std::floor(lo / step), step * std::ceil(hi * 1.08 / step));
  std::string s =
      Axes(r, f, "FIDI z per batch", step, "%g", 1, "FIDI z (max over features)", "#fbe3e3");
  s += Rule(f, r.fidi_threshold, "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"", "#c0392b",
            Printf("threshold %g", r.fidi_threshold));
  Series points;
  for (const BatchRecord& b : r.batches)
    points.emplace_back(static_cast<double>(b.batch), b.fidi_z);
  return s + Line(f, points, "#3e4c59", false) + "</svg>\n";
}

}  // namespace reflex::sim::svg

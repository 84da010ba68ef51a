#include "reflex-sim/report_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/atomic_file.h"

namespace reflex::sim {
namespace {

constexpr size_t kMaxTableWidth = 120;
constexpr size_t kMinWrappedWidth = 14;  // narrowest the "labels used" cell is wrapped to
constexpr char kHealedMeasuredOn[] = "measured on the batch it healed on, with true labels";

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string Percent(double fraction) { return Format("%.1f%%", 100.0 * fraction); }

// Display width of UTF-8 text: its code points (continuation bytes do not count).
size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;
  return width;
}

// Splits `text` into lines of at most `width` code points, at spaces where possible.
std::vector<std::string> Wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  auto flush = [&] {
    if (!line.empty()) lines.push_back(line);
    line.clear();
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (!line.empty() && DisplayWidth(line) + 1 + DisplayWidth(word) <= width) {
      line += ' ' + word;
      continue;
    }
    flush();
    // A word wider than a line is cut at code-point boundaries.
    while (DisplayWidth(word) > width) {
      size_t cut = 0, points = 0;
      while (cut < word.size() && points < width) {
        ++cut;
        while (cut < word.size() && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) ++cut;
        ++points;
      }
      lines.push_back(word.substr(0, cut));
      word = word.substr(cut);
    }
    line = word;
  }
  flush();
  if (lines.empty()) lines.push_back("");
  return lines;
}

std::string Pad(const std::string& cell, size_t width, bool right) {
  size_t w = DisplayWidth(cell);
  if (w >= width) return cell;
  std::string fill(width - w, ' ');
  return right ? fill + cell : cell + fill;
}

// RFC 4180: quoted, with quotes doubled, when the cell holds a comma, quote or line break.
std::string CsvCell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

Status WriteOne(const std::filesystem::path& dir, const char* name, const std::string& bytes) {
  return WriteFileAtomically((dir / name).string(), bytes);
}

}  // namespace

SummaryTable BuildSummaryTable(const SimResult& result) {
  bool any_bayes = false, any_cost = false;
  for (const auto& [name, arm] : result.arms) {
    any_bayes = any_bayes || arm.bayes_frontier_f1.has_value();
    any_cost = any_cost || arm.cost_per_1000.has_value();
  }
  SummaryTable table;
  if (result.num_classes >= 2) {
    table.header = {"arm", "labels used", "accuracy", "macro F1", "heals", "rejections", "rollbacks"};
    table.numeric = {false, false, true, true, true, true, true};
    for (const std::string& name : result.arm_order) {
      auto found = result.arms.find(name);
      if (found == result.arms.end()) {
        std::vector<std::string> row(table.header.size(), "-");
        row[0] = name;
        table.rows.push_back(row);
        continue;
      }
      const ArmSummary& arm = found->second;
      table.rows.push_back({name, arm.labels_used.empty() ? "-" : arm.labels_used, Percent(arm.confusion.accuracy()),
                            arm.macro_f1 ? Format("%.3f", *arm.macro_f1) : "-", std::to_string(arm.heal_events),
                            std::to_string(arm.rejections), std::to_string(arm.rollbacks)});
    }
    return table;
  }
  table.header = {"arm", "labels used", "accuracy", "precision",  "recall",
                  "F1",  "FP",          "heals",    "rejections", "rollbacks"};
  table.numeric = {false, false, true, true, true, true, true, true, true, true};
  if (any_bayes) {
    table.header.push_back("Bayes F1@acc");
    table.numeric.push_back(true);
  }
  if (any_cost) {
    table.header.push_back("cost/1000");
    table.numeric.push_back(true);
  }
  for (const std::string& name : result.arm_order) {
    auto found = result.arms.find(name);
    std::vector<std::string> row;
    if (found == result.arms.end()) {
      row.assign(table.header.size(), "-");
      row[0] = name;
      table.rows.push_back(row);
      continue;
    }
    const ArmSummary& arm = found->second;
    const Confusion& c = arm.confusion;
    row = {name,
           arm.labels_used.empty() ? "-" : arm.labels_used,
           Percent(c.accuracy()),
           Format("%.3f", c.precision()),
           Format("%.3f", c.recall()),
           Format("%.3f", c.f1()),
           std::to_string(c.fp),
           std::to_string(arm.heal_events),
           std::to_string(arm.rejections),
           std::to_string(arm.rollbacks)};
    if (any_bayes) {
      row.push_back(arm.bayes_frontier_f1 ? Format("%.3f", *arm.bayes_frontier_f1) : "-");
    }
    if (any_cost) row.push_back(arm.cost_per_1000 ? Format("%.2f", *arm.cost_per_1000) : "-");
    table.rows.push_back(row);
  }
  return table;
}

std::vector<std::string> TableFootnotes(const SimResult& result) {
  std::vector<std::string> lines;
  if (result.published) {
    const PublishedFigures& p = *result.published;
    lines.push_back("published: clean " + Percent(p.clean_accuracy) + ", drift " +
                    Percent(p.drift_accuracy) + ", healed " + Percent(p.healed_accuracy) + " (" +
                    kHealedMeasuredOn + ")");
    lines.push_back("Bayes ceiling of accuracy (from the generator): " +
                    Percent(p.bayes_ceiling_accuracy));
  }
  for (const std::string& note : result.notes) lines.push_back(note);
  return lines;
}

void PrintTable(std::ostream& out, const SimResult& result) {
  out << result.tool << "  scenario=" << result.scenario << "  seed=" << result.seed
      << "  batches=" << result.batches.size() << " x " << result.batch_size << " rows\n\n";

  SummaryTable table = BuildSummaryTable(result);
  const size_t columns = table.header.size();
  std::vector<size_t> width(columns);
  for (size_t i = 0; i < columns; ++i) {
    width[i] = DisplayWidth(table.header[i]);
    for (const auto& row : table.rows) width[i] = std::max(width[i], DisplayWidth(row[i]));
  }
  // Text columns are followed by two spaces, numbers by one (their headers are wider than them).
  auto separator = [&](size_t i) { return table.numeric[i] ? 1u : 2u; };
  size_t total = 0;
  for (size_t i = 0; i < columns; ++i) total += width[i] + (i + 1 < columns ? separator(i) : 0);
  constexpr size_t kLabels = 1;  // the one free-text column, wrapped when the row is too wide
  if (total > kMaxTableWidth) {
    size_t excess = total - kMaxTableWidth;
    size_t floor = std::max(kMinWrappedWidth, DisplayWidth(table.header[kLabels]));
    width[kLabels] = std::max(floor, width[kLabels] > excess ? width[kLabels] - excess : 0);
  }

  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < columns; ++i) {
      line += Pad(cells[i], width[i], table.numeric[i]);
      if (i + 1 < columns) line += std::string(separator(i), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  print_line(table.header);
  std::string rule;
  for (size_t i = 0; i < columns; ++i) {
    rule += std::string(width[i], '-');
    if (i + 1 < columns) rule += std::string(separator(i), ' ');
  }
  out << rule << '\n';
  for (const auto& row : table.rows) {
    std::vector<std::string> labels = Wrap(row[kLabels], width[kLabels]);
    std::vector<std::string> cells = row;
    cells[kLabels] = labels[0];
    print_line(cells);
    for (size_t k = 1; k < labels.size(); ++k) {
      std::vector<std::string> more(columns);
      more[kLabels] = labels[k];
      print_line(more);
    }
  }
  std::vector<std::string> footnotes = TableFootnotes(result);
  if (!footnotes.empty()) out << '\n';
  for (const std::string& line : footnotes) {
    for (const std::string& part : Wrap(line, kMaxTableWidth)) out << part << '\n';
  }
}

nlohmann::json ArmSummaryJson(const ArmSummary& arm) {
  const Confusion& c = arm.confusion;
  nlohmann::json a;
  a["accuracy"] = c.accuracy();
  a["precision"] = c.precision();
  a["recall"] = c.recall();
  a["f1"] = c.f1();
  a["tp"] = c.tp;
  a["fp"] = c.fp;
  a["tn"] = c.tn;
  a["fn"] = c.fn;
  a["rows"] = c.total();
  a["heal_events"] = arm.heal_events;
  a["rejections"] = arm.rejections;
  a["rollbacks"] = arm.rollbacks;
  a["final_version"] = arm.final_version;
  a["labels_used"] = arm.labels_used;
  if (arm.cost_per_1000) a["cost_per_1000"] = *arm.cost_per_1000;
  if (arm.bayes_frontier_f1) a["bayes_frontier_f1"] = *arm.bayes_frontier_f1;
  if (arm.macro_f1) a["macro_f1"] = *arm.macro_f1;
  return a;
}

nlohmann::json SummaryValue(const SimResult& result) {
  nlohmann::json root;
  root["scenario"] = result.scenario;
  root["seed"] = result.seed;
  root["batch_size"] = result.batch_size;
  root["batches"] = result.batches.size();
  root["fidi_threshold"] = result.fidi_threshold;
  root["arm_order"] = result.arm_order;
  nlohmann::json arms = nlohmann::json::object();
  for (const auto& [name, arm] : result.arms) arms[name] = ArmSummaryJson(arm);
  root["arms"] = std::move(arms);
  if (result.published) {
    const PublishedFigures& p = *result.published;
    root["published"] = {{"clean_accuracy", p.clean_accuracy},
                         {"drift_accuracy", p.drift_accuracy},
                         {"healed_accuracy", p.healed_accuracy},
                         {"healed_measured_on", "the batch it healed on, with true labels"},
                         {"bayes_ceiling_accuracy", p.bayes_ceiling_accuracy}};
  }
  if (result.cost_fp) root["cost_fp"] = *result.cost_fp;
  if (result.cost_fn) root["cost_fn"] = *result.cost_fn;
  root["notes"] = result.notes;
  if (result.num_classes >= 2) root["num_classes"] = result.num_classes;
  return root;
}

std::string SummaryJson(const SimResult& result) { return SummaryValue(result).dump(2) + "\n"; }

std::string MetricsCsv(const SimResult& result) {
  std::string csv = "batch,fidi_z,drift,conflicts";
  for (const std::string& arm : result.arm_order) {
    csv += ',' + CsvCell(arm + "_accuracy") + ',' + CsvCell(arm + "_f1") + ',' +
           CsvCell(arm + "_version") + ',' + CsvCell(arm + "_action");
  }
  csv += '\n';
  for (const BatchRecord& b : result.batches) {
    csv += std::to_string(b.batch) + ',' + Format("%.4f", b.fidi_z) + ',' + (b.drift ? "1" : "0") +
           ',' + std::to_string(b.conflicts);
    for (const std::string& arm : result.arm_order) {
      auto found = b.arms.find(arm);
      if (found == b.arms.end()) {
        csv += ",,,,";
        continue;
      }
      const ArmBatch& a = found->second;
      csv += ',' + Format("%.6f", a.accuracy) + ',' + Format("%.6f", a.f1) + ',' +
             std::to_string(a.served_version) + ',' + CsvCell(a.action);
    }
    csv += '\n';
  }
  return csv;
}

nlohmann::json EventsValue(const SimResult& result) {
  nlohmann::json events = nlohmann::json::array();
  for (const SimEvent& e : result.events) {
    nlohmann::json details = nlohmann::json::object();
    for (const auto& [key, value] : e.details) details[key] = value;
    events.push_back({{"batch", e.batch},
                      {"arm", e.arm},
                      {"kind", e.kind},
                      {"version", e.version},
                      {"from_version", e.from_version},
                      {"reason", e.reason},
                      {"details", std::move(details)}});
  }
  nlohmann::json root;
  root["events"] = std::move(events);
  return root;
}

std::string EventsJson(const SimResult& result) { return EventsValue(result).dump(2) + "\n"; }

Status WriteOutputs(const std::string& dir, const SimResult& result) {
  const std::filesystem::path folder(dir);
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) {
    return Status::IoError("cannot create output folder " + dir + ": " + error.message());
  }
  if (!std::filesystem::is_directory(folder, error)) {
    return Status::IoError("cannot write outputs into " + dir + ": it exists and is not a folder");
  }
  REFLEX_RETURN_IF_ERROR(WriteOne(folder, "summary.json", SummaryJson(result)));
  REFLEX_RETURN_IF_ERROR(WriteOne(folder, "metrics.csv", MetricsCsv(result)));
  REFLEX_RETURN_IF_ERROR(WriteOne(folder, "events.json", EventsJson(result)));
  REFLEX_RETURN_IF_ERROR(WriteOne(folder, "report.html", ReportHtml(result)));
  return Status::Ok();
}

}  // namespace reflex::sim

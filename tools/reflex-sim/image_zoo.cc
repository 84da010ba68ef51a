#include "image_zoo.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "corruptions.h"
#include "zoo.h"

namespace reflex::sim {

namespace {

const char* const kDash = "\u2013";

std::string Fixed(double v, int digits) {
  std::ostringstream out;
  out.precision(digits);
  out << std::fixed << v;
  return out.str();
}

std::string Pad(const std::string& s, size_t width) {
  size_t shown = 0;
  for (unsigned char c : s) shown += (c & 0xC0) != 0x80;
  return std::string(width > shown ? width - shown : 0, ' ') + s;
}

ImageZooRow MakeRow(const std::string& corruption, int severity, const SimResult& r) {
  auto acc = [&](const char* arm) { return r.arms.count(arm) ? r.arms.at(arm).confusion.accuracy() : 0.0; };
  ImageZooRow row;
  row.corruption = corruption;
  row.severity = severity;
  row.frozen = acc("frozen");
  row.label_free = acc("healed_label_free");
  row.labels = acc("healed_labels");
  row.entropy_only = acc("entropy_only");
  row.oracle = acc("oracle");
  if (r.arms.count("oracle")) {
    row.gap_label_free = GapClosed(row.label_free, row.frozen, row.oracle);
    row.gap_labels = GapClosed(row.labels, row.frozen, row.oracle);
    row.gap_entropy_only = GapClosed(row.entropy_only, row.frozen, row.oracle);
  }
  const ArmSummary &lf = r.arms.at("healed_label_free"), &lab = r.arms.at("healed_labels");
  row.heals_label_free = lf.heal_events;
  row.heals_labels = lab.heal_events;
  row.rollbacks_label_free = lf.rollbacks;
  row.rollbacks_labels = lab.rollbacks;
  return row;
}

// Per arm: the gaps and accuracies of every row, by a member pointer.
struct ArmColumn {
  const char* name;
  double ImageZooRow::*accuracy;
  std::optional<double> ImageZooRow::*gap;
};

const std::vector<ArmColumn>& ArmColumns() {
  static const std::vector<ArmColumn> arms{{"healed_label_free", &ImageZooRow::label_free, &ImageZooRow::gap_label_free},
                                           {"healed_labels", &ImageZooRow::labels, &ImageZooRow::gap_labels},
                                           {"entropy_only", &ImageZooRow::entropy_only, &ImageZooRow::gap_entropy_only}};
  return arms;
}

struct ArmStats {
  size_t n = 0, below_frozen = 0;
  double mean_gap = 0;
};

ArmStats Stats(const std::vector<ImageZooRow>& rows, const ArmColumn& arm) {
  ArmStats s;
  for (const ImageZooRow& r : rows) {
    if (r.*arm.gap) {
      s.mean_gap += *(r.*arm.gap);
      ++s.n;
    }
    s.below_frozen += r.*arm.accuracy < r.frozen - 0.01;
  }
  if (s.n) s.mean_gap /= s.n;
  return s;
}

}  // namespace

Result<std::vector<ImageZooRow>> RunImageZoo(const ImageZooOptions& options) {
  std::vector<std::string> corruptions = options.corruptions;
  const auto& known = CorruptionNames();
  if (corruptions.empty()) std::copy_if(known.begin(), known.end(), std::back_inserter(corruptions), [](const std::string& n) { return n != "none"; });
  for (const std::string& c : corruptions) {
    if (std::find(known.begin(), known.end(), c) == known.end()) return Status::InvalidArgument("unknown corruption '" + c + "'");
  }
  for (int s : options.severities) {
    if (s < 1 || s > 5) return Status::InvalidArgument("corruption severity " + std::to_string(s) + " is outside 1..5");
  }
  std::vector<ImageZooRow> rows;
  for (const std::string& corruption : corruptions) {
    for (int severity : options.severities) {
      ImageExperimentOptions opt = options.base;
      opt.corruption = corruption;
      opt.severity = severity;
      auto result = RunImageExperiment(opt);
      if (!result.ok()) return result.status().WithContext("image zoo " + corruption + " severity " + std::to_string(severity));
      rows.push_back(MakeRow(corruption, severity, *result));
      if (opt.log) {
        const ImageZooRow& r = rows.back();
        *opt.log << "image zoo [" << rows.size() << "/" << corruptions.size() * options.severities.size() << "] " << corruption
                 << " " << severity << ": accuracy frozen " << Fixed(r.frozen, 3) << ", label-free " << Fixed(r.label_free, 3)
                 << ", labels " << Fixed(r.labels, 3) << ", entropy-only " << Fixed(r.entropy_only, 3) << ", oracle "
                 << Fixed(r.oracle, 3) << "\n";
      }
    }
  }
  return rows;
}

void PrintImageZoo(std::ostream& out, const ImageZooOptions& options, const std::vector<ImageZooRow>& rows) {
  const ImageExperimentOptions& b = options.base;
  out << "reflex-sim --zoo --images  dataset=" << b.dataset << "  runs=" << rows.size() << "  labels=" << Fixed(b.label_fraction * 100, 0)
      << "%/" << b.label_delay << "  seed=" << b.seed << "\n\n";
  const std::vector<std::string> header{"corruption", "sev", "frozen", "label-free", "labels", "entropy", "oracle",
                                        "gap LF",     "gap lab", "gap ent", "heals LF/lab", "rollbacks LF/lab"};
  const std::vector<size_t> width{14, 3, 7, 10, 7, 7, 7, 6, 7, 7, 12, 16};
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size(); ++i) text += (i ? " " : "") + (i ? Pad(cells[i], width[i]) : cells[i] + std::string(width[0] - cells[i].size(), ' '));
    out << text << "\n";
  };
  line(header);
  auto gap = [](const std::optional<double>& g) { return g ? Fixed(*g, 2) : std::string(kDash); };
  auto pct = [](double v) { return Fixed(v * 100, 1) + "%"; };
  for (const ImageZooRow& r : rows) {
    line({r.corruption, std::to_string(r.severity), pct(r.frozen), pct(r.label_free), pct(r.labels), pct(r.entropy_only), pct(r.oracle),
          gap(r.gap_label_free), gap(r.gap_labels), gap(r.gap_entropy_only),
          std::to_string(r.heals_label_free) + "/" + std::to_string(r.heals_labels),
          std::to_string(r.rollbacks_label_free) + "/" + std::to_string(r.rollbacks_labels)});
  }
  out << "\naccuracy over the stream (prequential); gap = (arm - frozen) / (oracle - frozen), " << kDash << " where oracle - frozen < "
      << kMinOracleGain << ".\nsummary: mean accuracy gap closed, and runs below frozen - 0.01 in accuracy\n";
  for (const ArmColumn& arm : ArmColumns()) {
    const ArmStats s = Stats(rows, arm);
    out << "  " << arm.name << std::string(20 - std::string(arm.name).size(), ' ') << (s.n ? Fixed(s.mean_gap, 2) : kDash) << " (n=" << s.n
        << "), below frozen in " << s.below_frozen << " of " << rows.size() << "\n";
  }
}

std::string ImageZooJson(const ImageZooOptions& options, const std::vector<ImageZooRow>& rows) {
  auto gap = [](const std::optional<double>& g) { return g ? nlohmann::json(*g) : nlohmann::json(nullptr); };
  nlohmann::json list = nlohmann::json::array(), summary = nlohmann::json::object();
  for (const ImageZooRow& r : rows) {
    list.push_back({{"corruption", r.corruption}, {"severity", r.severity}, {"frozen", r.frozen}, {"label_free", r.label_free},
                    {"labels", r.labels}, {"entropy_only", r.entropy_only}, {"oracle", r.oracle},
                    {"gap_closed_label_free", gap(r.gap_label_free)}, {"gap_closed_labels", gap(r.gap_labels)},
                    {"gap_closed_entropy_only", gap(r.gap_entropy_only)}, {"heals_label_free", r.heals_label_free},
                    {"heals_labels", r.heals_labels}, {"rollbacks_label_free", r.rollbacks_label_free},
                    {"rollbacks_labels", r.rollbacks_labels}});
  }
  for (const ArmColumn& arm : ArmColumns()) {
    const ArmStats s = Stats(rows, arm);
    summary[arm.name] = {{"n", s.n}, {"mean_gap_closed", s.n ? nlohmann::json(s.mean_gap) : nlohmann::json(nullptr)},
                         {"below_frozen", s.below_frozen}};
  }
  const nlohmann::json root{{"dataset", options.base.dataset}, {"label_fraction", options.base.label_fraction},
                            {"label_delay", options.base.label_delay}, {"rows", list}, {"summary", summary}};
  return root.dump(2) + "\n";
}

Status WriteImageZooJson(const std::string& dir, const ImageZooOptions& options, const std::vector<ImageZooRow>& rows) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::IoError(dir + ": cannot create the folder: " + error.message());
  return WriteFileAtomically((std::filesystem::path(dir) / "image_zoo.json").string(), ImageZooJson(options, rows));
}

}  // namespace reflex::sim

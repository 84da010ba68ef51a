#include "bench_report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"

namespace reflex::bench {

std::string FormatParams(const nlohmann::json& params) {
  std::string out;
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (!out.empty()) out += ' ';
    out += it.key() + '=' + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

void BenchReport::SetSuite(const std::string& suite) {
  suite_ = suite;
  std::printf("\n== %s\n%-34s %14s  %-8s %s\n", suite.c_str(), "figure", "value", "unit", "parameters");
  std::fflush(stdout);
}

void BenchReport::Add(const std::string& name, double value, const std::string& unit, nlohmann::json params) {
  if (!std::isfinite(value)) value = 0;  // JSON has no NaN; a suite notes why a value is missing
  std::printf("%-34s %14.6g  %-8s %s\n", name.c_str(), value, unit.c_str(), FormatParams(params).c_str());
  std::fflush(stdout);
  figures_.push_back(Figure{suite_, name, value, unit, std::move(params)});
}

void BenchReport::Note(const std::string& line) {
  std::printf("  note: %s\n", line.c_str());
  std::fflush(stdout);
  notes_.push_back("[" + suite_ + "] " + line);
}

nlohmann::json BenchReport::ToJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const Figure& f : figures_) {
    out.push_back({{"suite", f.suite}, {"name", f.name}, {"value", f.value}, {"unit", f.unit}, {"params", f.params}});
  }
  return out;
}

Status BenchReport::Write(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  Status s = WriteFileAtomically((std::filesystem::path(dir) / "bench.json").string(), ToJson().dump(2) + "\n");
  if (!s.ok() || notes_.empty()) return s;
  std::string text;
  for (const std::string& n : notes_) text += n + "\n";
  return WriteFileAtomically((std::filesystem::path(dir) / "notes.txt").string(), text);
}

}  // namespace reflex::bench

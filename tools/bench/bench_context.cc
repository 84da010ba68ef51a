#include "bench_context.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <filesystem>
#include <fstream>

namespace reflex::bench {

Result<std::shared_ptr<const ModelBundle>> BenchContext::Bundle() {
  if (bundle_) return bundle_;
  const std::string dir = (std::filesystem::path(work_dir_) / "model").string();
  auto streams = sim::BuildScenarioBundle("recalibration", options_.seed, dir);
  if (!streams.ok()) return streams.status();
  auto loaded = LoadModelBundle(dir);
  if (!loaded.ok()) return loaded.status();
  streams_ = std::move(*streams);
  bundle_ = std::make_shared<const ModelBundle>(std::move(*loaded));
  return bundle_;
}

Result<nlohmann::json> BenchContext::Original() {
  if (original_) return *original_;
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string command = quote(options_.python) + " " + quote(options_.original_script) + " --seconds " +
                              (options_.quick ? "0.1" : "2") + " --seed " + std::to_string(options_.seed) +
                              " 2>&1";
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = pclose(pipe);
    const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
    if (status == 0 && j.is_object() && j.contains("single_call_per_s")) {
      original_ = Result<nlohmann::json>(j);
    } else if (j.is_object() && j.contains("skipped")) {
      original_ = Result<nlohmann::json>(Status::Unavailable(j["skipped"].get<std::string>()));
    } else {
      original_ = Result<nlohmann::json>(Status::Unavailable("`" + command + "` failed: " + out));
    }
  } else {
    original_ = Result<nlohmann::json>(Status::Unavailable("cannot run " + options_.python));
  }
  return *original_;
}

double FlopsPerRow(const ModelBundle& bundle) {
  const ModelSpec& spec = bundle.model->spec();
  const double in = static_cast<double>(spec.feature_names.size());
  const double w = spec.width, h = spec.adapter_hidden;
  // backbone in->w, w->w; adapter w->h, h->w; head w->1.
  return 2.0 * (in * w + w * w + w * h + h * w + w);
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

}  // namespace reflex::bench

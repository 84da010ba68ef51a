#define BOOST_TEST_MODULE core_registry
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/registry.h"
#include "core/version_file.h"

using namespace reflex;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("reflex_registry_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(now) + "_" + std::to_string(counter++));
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string str() const { return path_.string(); }
  fs::path path() const { return path_; }

 private:
  fs::path path_;
};

VersionRecord MakeRecord(uint64_t version, std::map<std::string, double> metrics = {}) {
  VersionRecord record;
  record.adapter.version = version;
  record.adapter.parent = version == 0 ? 0 : version - 1;
  record.adapter.epoch = 1;
  record.adapter.dims = {4, 2};
  record.adapter.weights.resize(AdapterWeightCount(record.adapter.dims));
  for (size_t i = 0; i < record.adapter.weights.size(); ++i) {
    record.adapter.weights[i] = 0.1f * static_cast<float>(i) + static_cast<float>(version);
  }
  record.adapter.Seal();
  record.reason = version == 0 ? "initial" : "heal: fidi z=2.31";
  record.created_unix_ms = 1700000000000 + static_cast<int64_t>(version);
  record.metrics = std::move(metrics);
  return record;
}

std::unique_ptr<VersionRegistry> OpenOrDie(const std::string& dir,
                                           std::vector<std::string>* problems,
                                           bool repair = false) {
  auto opened = VersionRegistry::Open(dir, problems, repair);
  BOOST_TEST_REQUIRE(opened.ok(), opened.status().ToString());
  return std::move(opened).value();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Three versions on disk, then the registry is closed.
void WriteThreeVersions(const std::string& dir) {
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir, &problems);
  for (uint64_t v = 0; v < 3; ++v) BOOST_TEST_REQUIRE(registry->Put(MakeRecord(v)).ok());
}

}  // namespace

BOOST_AUTO_TEST_CASE(ReopenRestoresRecordsWithReasonAndMetrics) {
  TempDir dir;
  std::vector<std::string> problems;
  {
    auto registry = OpenOrDie(dir.str(), &problems);
    BOOST_TEST(registry->empty());
    BOOST_TEST(registry->Put(MakeRecord(0, {{"val_accuracy", 0.93}})).ok());
    BOOST_TEST(registry->Put(MakeRecord(1, {{"val_f1", 0.71}, {"positive_rate", 0.12}})).ok());
    BOOST_TEST(fs::exists(registry->VersionFilePath(1)));
    BOOST_TEST(fs::path(registry->VersionFilePath(1)).filename() == "v00000000000000000001.rfx");
  }
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(problems.empty());
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({0, 1}));
  BOOST_TEST(registry->LatestVersion() == 1u);
  const VersionRecord* record = registry->Get(1);
  BOOST_TEST_REQUIRE(record != nullptr);
  const VersionRecord expected = MakeRecord(1, {{"val_f1", 0.71}, {"positive_rate", 0.12}});
  BOOST_TEST(record->reason == "heal: fidi z=2.31");
  BOOST_TEST(record->created_unix_ms == expected.created_unix_ms);
  BOOST_TEST(record->metrics == expected.metrics);
  BOOST_TEST(record->adapter.weights == expected.adapter.weights);
  BOOST_TEST(record->adapter.checksum == expected.adapter.checksum);
  BOOST_TEST(record->adapter.parent == 0u);
  BOOST_TEST(record->adapter.Verify().ok());
  BOOST_TEST(registry->Get(0)->metrics.at("val_accuracy") == 0.93);
  BOOST_TEST(registry->Get(5) == nullptr);
}

BOOST_AUTO_TEST_CASE(TruncatedFileIsReportedWhileOthersLoad) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  const std::string path = (dir.path() / VersionRegistry::VersionFileName(1)).string();
  const std::string bytes = ReadFile(path);
  WriteFile(path, bytes.substr(0, bytes.size() / 2));

  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({0, 2}));
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(Contains(problems[0], VersionRegistry::VersionFileName(1)));
  BOOST_TEST(Contains(problems[0], "checksum mismatch"), problems[0]);
}

BOOST_AUTO_TEST_CASE(FlippedByteIsReportedWhileOthersLoad) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  const std::string path = (dir.path() / VersionRegistry::VersionFileName(2)).string();
  std::string bytes = ReadFile(path);
  bytes[60] ^= 0x10;  // inside the weights
  WriteFile(path, bytes);

  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({0, 1}));
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(Contains(problems[0], VersionRegistry::VersionFileName(2)));
  BOOST_TEST(Contains(problems[0], "checksum mismatch"), problems[0]);
}

BOOST_AUTO_TEST_CASE(ShortFileAndBadMagicAreReportedWithTheirReason) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  WriteFile((dir.path() / VersionRegistry::VersionFileName(0)).string(), "RFX");
  std::string bytes = ReadFile((dir.path() / VersionRegistry::VersionFileName(1)).string());
  bytes[0] = 'X';
  WriteFile((dir.path() / VersionRegistry::VersionFileName(1)).string(), bytes);

  std::vector<std::string> problems;
  // ACTIVE names version 0, which no longer loads: refused unless repairing.
  BOOST_CHECK(VersionRegistry::Open(dir.str(), &problems).status().code() == StatusCode::kFailedPrecondition);
  problems.clear();
  auto registry = OpenOrDie(dir.str(), &problems, /*repair=*/true);
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({2}));
  BOOST_TEST_REQUIRE(problems.size() == 3u);
  std::string all = problems[0] + "\n" + problems[1];
  BOOST_TEST(Contains(all, "shorter than the smallest valid file"), all);
  BOOST_TEST(Contains(all, "bad magic"), all);
}

BOOST_AUTO_TEST_CASE(FileWhoseAdapterFailsVerifyIsSkipped) {
  TempDir dir;
  {
    std::vector<std::string> problems;
    auto registry = OpenOrDie(dir.str(), &problems);
    BOOST_TEST_REQUIRE(registry->Put(MakeRecord(0)).ok());
  }
  // A well-framed file whose adapter checksum is stale (the writer forgot to Seal).
  VersionRecord stale = MakeRecord(1);
  stale.adapter.weights[0] = 5.f;
  WriteFile((dir.path() / VersionRegistry::VersionFileName(1)).string(),
            EncodeVersionRecord(stale));
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({0}));
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(Contains(problems[0], "adapter version 1: checksum mismatch"), problems[0]);
}

BOOST_AUTO_TEST_CASE(LeftoverTemporaryFilesAreIgnoredAndRemoved) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  const fs::path leftover = dir.path() / (VersionRegistry::VersionFileName(3) + ".tmp");
  WriteFile(leftover.string(), "half a wri");
  const fs::path active_leftover = dir.path() / "ACTIVE.tmp";
  WriteFile(active_leftover.string(), "");

  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(problems.empty());
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({0, 1, 2}));
  BOOST_TEST(!fs::exists(leftover));
  BOOST_TEST(!fs::exists(active_leftover));
}

BOOST_AUTO_TEST_CASE(ActiveVersionPersistsAcrossReopen) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  {
    std::vector<std::string> problems;
    auto registry = OpenOrDie(dir.str(), &problems);
    BOOST_TEST(registry->active() == 0u);  // never set
    BOOST_TEST(registry->SetActive(1).ok());
    BOOST_CHECK(registry->SetActive(9).code() == StatusCode::kNotFound);
    BOOST_TEST(registry->active() == 1u);
  }
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(problems.empty());
  BOOST_TEST(registry->active() == 1u);
}

BOOST_AUTO_TEST_CASE(CorruptActiveIsRefusedAndRepairFallsBackToHighestVersion) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  std::string bytes = ReadFile((dir.path() / "ACTIVE").string());
  bytes[10] ^= 0x01;
  WriteFile((dir.path() / "ACTIVE").string(), bytes);

  std::vector<std::string> problems;
  auto refused = VersionRegistry::Open(dir.str(), &problems);
  BOOST_CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(Contains(refused.status().message(), "ACTIVE"), refused.status().message());
  BOOST_TEST(Contains(refused.status().message(), "registry_repair"), refused.status().message());
  auto registry = OpenOrDie(dir.str(), &problems, /*repair=*/true);
  BOOST_TEST(registry->active() == 2u);
  BOOST_TEST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(Contains(problems[0], "using the highest loaded version 2"), problems[0]);
}

BOOST_AUTO_TEST_CASE(MissingActiveWithVersionsIsRefused) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  fs::remove(dir.path() / "ACTIVE");
  std::vector<std::string> problems;
  auto refused = VersionRegistry::Open(dir.str(), &problems);
  BOOST_CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(Contains(refused.status().message(), "ACTIVE: missing, but versions up to 2 exist"),
             refused.status().message());
}

BOOST_AUTO_TEST_CASE(ActiveNamingAVersionThatDidNotLoadIsRefused) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  {
    std::vector<std::string> problems;
    auto registry = OpenOrDie(dir.str(), &problems);
    BOOST_TEST_REQUIRE(registry->SetActive(2).ok());
  }
  fs::remove(dir.path() / VersionRegistry::VersionFileName(2));
  std::vector<std::string> problems;
  auto refused = VersionRegistry::Open(dir.str(), &problems);
  BOOST_TEST(Contains(refused.status().message(), "names version 2, which did not load"),
             refused.status().message());
  auto registry = OpenOrDie(dir.str(), &problems, /*repair=*/true);
  BOOST_TEST(registry->active() == 1u);
}

BOOST_AUTO_TEST_CASE(EpochsAreTakenForwardAndPersisted) {
  TempDir dir;
  {
    std::vector<std::string> problems;
    auto registry = OpenOrDie(dir.str(), &problems);
    BOOST_TEST(registry->epoch() == 0u);
    BOOST_TEST(*registry->TakeNextEpoch() == 1u);
    BOOST_TEST(*registry->TakeNextEpoch(41) == 42u);   // above what the fleet reported
    BOOST_TEST(*registry->TakeNextEpoch(7) == 43u);    // never backwards
    BOOST_TEST_REQUIRE(registry->Put(MakeRecord(0)).ok());
  }
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST(problems.empty());
  BOOST_TEST(registry->epoch() == 43u);
  BOOST_TEST(ReadFile((dir.path() / "EPOCH").string()) == "43\n");
  BOOST_CHECK(registry->TakeNextEpoch(kMaxEpoch).status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(registry->epoch() == 43u);
}

BOOST_AUTO_TEST_CASE(MissingOrDamagedEpochIsRefusedWithTheWayOut) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"-5\n", "only decimal digits"},
      {"18446744073709551615\n", "above the highest epoch"},  // 2^64 - 1: +1 would wrap to 0
      {"12abc", "only decimal digits"},
      {" 3\n", "only decimal digits"},
      {"0\n", "below epoch 1 of a version it holds"}};
  for (const auto& [text, why] : cases) {
    TempDir dir;
    WriteThreeVersions(dir.str());
    WriteFile((dir.path() / "EPOCH").string(), text);
    std::vector<std::string> problems;
    auto refused = VersionRegistry::Open(dir.str(), &problems);
    BOOST_TEST(!refused.ok(), "EPOCH '" << text << "' accepted");
    BOOST_TEST(Contains(refused.status().message(), why), refused.status().message());
    BOOST_TEST(Contains(refused.status().message(), "EPOCH"), refused.status().message());
  }
  TempDir dir;
  WriteThreeVersions(dir.str());
  fs::remove(dir.path() / "EPOCH");
  std::vector<std::string> problems;
  auto refused = VersionRegistry::Open(dir.str(), &problems);
  BOOST_TEST(Contains(refused.status().message(), "EPOCH: missing, but 3 versions exist"),
             refused.status().message());
  auto repaired = OpenOrDie(dir.str(), &problems, /*repair=*/true);
  BOOST_TEST(repaired->epoch() == 1u);  // the highest epoch of a loaded version
  BOOST_TEST(*repaired->TakeNextEpoch() == 2u);
}

BOOST_AUTO_TEST_CASE(SpecialAndOversizedFilesAreSkippedWithAReport) {
  TempDir dir;
  WriteThreeVersions(dir.str());
  const fs::path fifo = dir.path() / VersionRegistry::VersionFileName(7);
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink("/dev/zero", dir.path() / VersionRegistry::VersionFileName(8));
  {
    std::ofstream big(dir.path() / VersionRegistry::VersionFileName(9), std::ios::binary);
    big.seekp(static_cast<std::streamoff>(VersionRegistry::kMaxRegistryFileBytes));
    big.put('x');  // sparse: over the limit without using the disk
  }
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);  // returns: nothing blocks or grows
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({0, 1, 2}));
  BOOST_TEST_REQUIRE(problems.size() == 3u);
  BOOST_TEST(Contains(problems[0], "is a FIFO"), problems[0]);
  BOOST_TEST(Contains(problems[1], "is a character device"), problems[1]);
  BOOST_TEST(Contains(problems[2], "over the limit"), problems[2]);
}

BOOST_AUTO_TEST_CASE(UpdateMetricsMergesAndPersists) {
  TempDir dir;
  {
    std::vector<std::string> problems;
    auto registry = OpenOrDie(dir.str(), &problems);
    BOOST_TEST_REQUIRE(registry->Put(MakeRecord(1, {{"val_f1", 0.5}, {"val_accuracy", 0.8}})).ok());
    BOOST_TEST(registry->UpdateMetrics(1, {{"val_f1", 0.6}, {"post_accuracy", 0.9}}).ok());
    BOOST_CHECK(registry->UpdateMetrics(4, {{"val_f1", 0.6}}).code() == StatusCode::kNotFound);
  }
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  const std::map<std::string, double> expected = {
      {"val_f1", 0.6}, {"val_accuracy", 0.8}, {"post_accuracy", 0.9}};
  BOOST_TEST_REQUIRE(registry->Get(1) != nullptr);
  BOOST_TEST(registry->Get(1)->metrics == expected);
}

BOOST_AUTO_TEST_CASE(BestPostHealPicksHighestMetricAndIgnoresVersionZero) {
  auto registry = VersionRegistry::InMemory();
  BOOST_CHECK(registry->BestPostHeal("val_f1").status().code() == StatusCode::kNotFound);
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(0, {{"val_f1", 0.99}})).ok());
  BOOST_CHECK(registry->BestPostHeal("val_f1").status().code() == StatusCode::kNotFound);
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(1, {{"val_f1", 0.60}})).ok());
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(2, {{"val_f1", 0.75}})).ok());
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(3, {{"val_accuracy", 0.9}})).ok());
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(4, {{"val_f1", 0.70}})).ok());
  BOOST_TEST(*registry->BestPostHeal("val_f1") == 2u);
  BOOST_TEST(*registry->BestPostHeal("val_accuracy") == 3u);
  BOOST_CHECK(registry->BestPostHeal("post_accuracy").status().code() == StatusCode::kNotFound);
  // Ties go to the newest.
  BOOST_TEST_REQUIRE(registry->UpdateMetrics(4, {{"val_f1", 0.75}}).ok());
  BOOST_TEST(*registry->BestPostHeal("val_f1") == 4u);
}

BOOST_AUTO_TEST_CASE(PutRejectsDuplicateAndUnverifiableAdapters) {
  TempDir dir;
  std::vector<std::string> problems;
  auto registry = OpenOrDie(dir.str(), &problems);
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(1)).ok());
  Status duplicate = registry->Put(MakeRecord(1));
  BOOST_CHECK(duplicate.code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(Contains(duplicate.message(), "version 1 already exists"));

  VersionRecord unsealed = MakeRecord(2);
  unsealed.adapter.weights[3] += 1.f;
  BOOST_CHECK(registry->Put(unsealed).code() == StatusCode::kCorruption);
  VersionRecord wrong_count = MakeRecord(3);
  wrong_count.adapter.weights.push_back(0.f);
  wrong_count.adapter.Seal();
  BOOST_CHECK(registry->Put(wrong_count).code() == StatusCode::kInvalidArgument);
  BOOST_TEST(registry->Versions() == std::vector<uint64_t>({1}));
  BOOST_TEST(!fs::exists(registry->VersionFilePath(2)));
  BOOST_TEST(!fs::exists(registry->VersionFilePath(3)));
}

BOOST_AUTO_TEST_CASE(InMemoryRegistryKeepsVersionsWithoutFiles) {
  auto registry = VersionRegistry::InMemory();
  BOOST_TEST(registry->empty());
  BOOST_TEST(registry->LatestVersion() == 0u);
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(0)).ok());
  BOOST_TEST_REQUIRE(registry->Put(MakeRecord(5)).ok());
  BOOST_TEST(registry->LatestVersion() == 5u);
  BOOST_TEST(registry->SetActive(5).ok());
  BOOST_TEST(registry->active() == 5u);
  BOOST_TEST(registry->VersionFilePath(5).empty());
}

BOOST_AUTO_TEST_CASE(AtomicWriteReplacesContentsAndLeavesNoTemporaryFile) {
  TempDir dir;
  fs::create_directories(dir.path());
  const std::string path = (dir.path() / "file").string();
  BOOST_TEST(WriteFileAtomically(path, "first").ok());
  BOOST_TEST(WriteFileAtomically(path, "second").ok());
  BOOST_TEST(*ReadWholeFile(path) == "second");
  BOOST_TEST(!fs::exists(path + ".tmp"));
  BOOST_CHECK(ReadWholeFile(path + "-absent").status().code() == StatusCode::kNotFound);
  Status status = WriteFileAtomically((dir.path() / "no-such-folder" / "file").string(), "x");
  BOOST_CHECK(status.code() == StatusCode::kIoError);
  BOOST_TEST(Contains(status.message(), "no-such-folder"), status.message());
}

BOOST_AUTO_TEST_CASE(OpenFailsWhenTheFolderCannotBeCreated) {
  TempDir dir;
  fs::create_directories(dir.path());
  WriteFile((dir.path() / "plain-file").string(), "x");
  std::vector<std::string> problems;
  auto opened = VersionRegistry::Open((dir.path() / "plain-file" / "registry").string(), &problems);
  BOOST_CHECK(opened.status().code() == StatusCode::kIoError);
}

#define BOOST_TEST_MODULE tools_idx_files
#include <boost/test/unit_test.hpp>

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reflex-sim/idx_files.h"

// Reading IDX files from disk, gzipped or not: errors name the file and what is wrong.
namespace fs = std::filesystem;
using reflex::sim::ReadIdxDataset;

namespace {

fs::path Dir() {
  fs::path d = fs::temp_directory_path() / ("reflex_idx_files_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

std::vector<uint8_t> Idx(std::vector<uint32_t> dims, std::vector<uint8_t> values) {
  std::vector<uint8_t> b{0, 0, 8, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<uint8_t>(d >> shift));
  }
  b.insert(b.end(), values.begin(), values.end());
  return b;
}

void WritePlain(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

void WriteGz(const fs::path& p, const std::vector<uint8_t>& b) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

}  // namespace

BOOST_AUTO_TEST_CASE(ReadsGzippedAndPlainFilesAlike) {
  fs::path d = Dir();
  WriteGz(d / "img.gz", Idx({2, 2, 2}, {0, 255, 0, 255, 255, 0, 255, 0}));
  WritePlain(d / "lab", Idx({2}, {1, 2}));
  auto data = ReadIdxDataset((d / "img.gz").string(), (d / "lab").string());
  BOOST_REQUIRE_MESSAGE(data.ok(), data.status().message());
  BOOST_TEST(data->images.count == 2u);
  BOOST_TEST(data->num_classes == 3);
  BOOST_TEST(data->images.pixels[1] == 1.0f);
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(DamagedGzipMissingFileAndCountMismatchNameTheFile) {
  fs::path d = Dir();
  WriteGz(d / "img.gz", Idx({2, 2, 2}, {0, 255, 0, 255, 255, 0, 255, 0}));
  WritePlain(d / "lab3", Idx({3}, {1, 2, 0}));
  auto mismatch = ReadIdxDataset((d / "img.gz").string(), (d / "lab3").string());
  BOOST_TEST(!mismatch.ok());
  BOOST_TEST(mismatch.status().message().find("lab3: 3 labels for the 2 images of") != std::string::npos);

  std::ifstream in(d / "img.gz", std::ios::binary);
  std::vector<char> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() / 2);
  std::ofstream(d / "cut.gz", std::ios::binary).write(gz.data(), gz.size());
  auto cut = ReadIdxDataset((d / "cut.gz").string(), (d / "lab3").string());
  BOOST_TEST(!cut.ok());
  BOOST_TEST(cut.status().message().find("cut.gz: ") != std::string::npos);

  auto missing = ReadIdxDataset((d / "nope.gz").string(), (d / "lab3").string());
  BOOST_TEST(!missing.ok());
  BOOST_TEST(missing.status().message().find("nope.gz: cannot open") != std::string::npos);
  fs::remove_all(d);
}

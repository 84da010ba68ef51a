#define BOOST_TEST_MODULE core_csv
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/csv.h"

using reflex::LabeledData;
using reflex::ReadLabeledCsv;
using reflex::Result;
using reflex::Status;
using reflex::StatusCode;
using reflex::WriteLabeledCsv;

namespace {

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("reflex_csv_test_" + std::to_string(random()) + "_" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Writes `content` to `name` in the directory and returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = Path(name);
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

// The message of reading `content` as a CSV file, which must fail with InvalidArgument.
// The file is dir.Path("data.csv").
std::string ReadError(const TempDir& dir, const std::string& content,
                      const std::string& label = "Class") {
  const std::string path = dir.Write("data.csv", content);
  Result<LabeledData> data = ReadLabeledCsv(path, label);
  BOOST_REQUIRE_MESSAGE(!data.ok(), "expected an error reading: " + content);
  BOOST_CHECK(data.status().code() == StatusCode::kInvalidArgument);
  return data.status().message();
}

}  // namespace

BOOST_AUTO_TEST_CASE(WrittenDataReadsBackExactly) {
  TempDir dir;
  LabeledData data;
  data.feature_names = {"Time", "V1", "amount, EUR", "say \"hi\""};
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.f, 1000.f);
  for (int r = 0; r < 50; ++r) {
    for (size_t c = 0; c < data.dims(); ++c) data.features.push_back(dist(rng));
    data.labels.push_back(static_cast<uint8_t>(r % 3 == 0));
  }
  data.features[0] = 1e-30f;
  data.features[1] = -3.4e38f;
  const std::string path = dir.Path("round.csv");
  BOOST_REQUIRE(WriteLabeledCsv(path, data, "Class").ok());

  Result<LabeledData> read = ReadLabeledCsv(path, "Class");
  BOOST_REQUIRE_MESSAGE(read.ok(), read.status().ToString());
  BOOST_TEST(read->feature_names == data.feature_names);
  BOOST_TEST(read->features == data.features);
  BOOST_TEST(read->labels == data.labels);
  BOOST_TEST(read->rows() == 50u);
  BOOST_TEST(read->dims() == 4u);
  BOOST_TEST(ReadLabeledCsv(path, "Class", data.feature_names).ok());
}

BOOST_AUTO_TEST_CASE(AcceptsCrlfSpacesQuotesBomAndBlankLines) {
  TempDir dir;
  const std::string path = dir.Write(
      "messy.csv",
      "\xEF\xBB\xBF\"V1\", V2 ,\"Class\"\r\n"
      " 1.5 , -2 ,1.0\r\n"
      "\r\n"
      "\"3\",+4e-3,0.0\r\n"
      "   \r\n");
  Result<LabeledData> data = ReadLabeledCsv(path, "Class");
  BOOST_REQUIRE_MESSAGE(data.ok(), data.status().ToString());
  BOOST_TEST(data->feature_names == (std::vector<std::string>{"V1", "V2"}));
  BOOST_TEST(data->features == (std::vector<float>{1.5f, -2.f, 3.f, 4e-3f}));
  BOOST_TEST(data->labels == (std::vector<uint8_t>{1, 0}));
}

BOOST_AUTO_TEST_CASE(LabelColumnMayComeFirst) {
  TempDir dir;
  const std::string path = dir.Write("first.csv", "Class,V1,V2\n1,2,3\n0,4,5");
  Result<LabeledData> data = ReadLabeledCsv(path, "Class");
  BOOST_REQUIRE(data.ok());
  BOOST_TEST(data->feature_names == (std::vector<std::string>{"V1", "V2"}));
  BOOST_TEST(data->features == (std::vector<float>{2, 3, 4, 5}));
  BOOST_TEST(data->labels == (std::vector<uint8_t>{1, 0}));
}

BOOST_AUTO_TEST_CASE(MissingFileIsAnIoErrorNamingThePath) {
  TempDir dir;
  const std::string path = dir.Path("nowhere.csv");
  Result<LabeledData> data = ReadLabeledCsv(path, "Class");
  BOOST_TEST(!data.ok());
  BOOST_CHECK(data.status().code() == StatusCode::kIoError);
  BOOST_TEST(data.status().message().find(path) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ErrorsNameFileLineAndColumn) {
  TempDir dir;
  const std::string p = dir.Path("data.csv");
  BOOST_TEST(ReadError(dir, "") == p + ": file is empty");
  BOOST_TEST(ReadError(dir, "\n \r\n") == p + ": file is empty");
  BOOST_TEST(ReadError(dir, "V1,V2,Label\n1,2,0\n", "Class") ==
             p + ":1: label column 'Class' not found (columns: V1, V2, Label)");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n") == p + ":2: no data rows");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,2,0\n3,4\n") ==
             p + ":3: expected 3 fields, found 2");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,2,0,\n") ==
             p + ":2: expected 3 fields, found 4");
  BOOST_TEST(ReadError(dir, "V1,V2,V3,Class\n1,2,3,0\n1,2,abc,1\n") ==
             p + ":3:3: non-numeric value 'abc' in column 'V3'");
  BOOST_TEST(ReadError(dir, "V1,V2,V3,V4,Class\n1,2,3,NaN,0\n") ==
             p + ":2:4: NaN in column 'V4'");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,inf,0\n") ==
             p + ":2:2: value 'inf' in column 'V2' is not a finite float");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,1e39,0\n") ==
             p + ":2:2: value '1e39' in column 'V2' is not a finite float");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,1e999,0\n") ==
             p + ":2:2: value '1e999' in column 'V2' is out of range");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1, ,0\n") ==
             p + ":2:2: empty value in column 'V2'");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,2,2\n") ==
             p + ":2:3: label '2' in column 'Class' is not 0 or 1");
  BOOST_TEST(ReadError(dir, "V1,V2,Class\n1,2,yes\n") ==
             p + ":2:3: label 'yes' in column 'Class' is not 0 or 1");
  BOOST_TEST(ReadError(dir, "V1,V2,V1,Class\n1,2,3,0\n") ==
             p + ":1:3: duplicate column name 'V1' (also column 1)");
  BOOST_TEST(ReadError(dir, ",V1,Class\n0,1,0\n") ==
             p + ":1:1: column 1 has no name (an index column? write without it)");
  BOOST_TEST(ReadError(dir, "Class\n1\n") ==
             p + ":1: no feature columns besides the label 'Class'");
  BOOST_TEST(ReadError(dir, "V1,\"V2,Class\n") ==
             p + ":1:2: unterminated quote (quoted fields cannot span lines)");
  BOOST_TEST(ReadError(dir, "V1,\"V2\"x,Class\n") ==
             p + ":1:2: unexpected text after a closing quote");
}

BOOST_AUTO_TEST_CASE(StreamColumnsMustMatchTheTrainingColumns) {
  TempDir dir;
  const std::vector<std::string> train = {"V1", "V2", "V3"};
  const std::string ok = dir.Write("ok.csv", "V1,V2,Class,V3\n1,2,0,3\n");
  BOOST_TEST(ReadLabeledCsv(ok, "Class", train).ok());

  const std::string swapped = dir.Write("swapped.csv", "V1,Class,V3,V2\n1,0,3,2\n");
  Result<LabeledData> r = ReadLabeledCsv(swapped, "Class", train);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.status().message() ==
             swapped + ":1:3: feature 2 is 'V3', expected 'V2' (feature columns must match the "
                       "training data, in order)");

  const std::string fewer = dir.Write("fewer.csv", "V1,V2,Class\n1,2,0\n");
  r = ReadLabeledCsv(fewer, "Class", train);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.status().message() ==
             fewer + ":1: 2 feature columns, expected 3; first missing: 'V3'");

  const std::string more = dir.Write("more.csv", "V1,V2,V3,V4,Class\n1,2,3,4,0\n");
  r = ReadLabeledCsv(more, "Class", train);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.status().message() ==
             more + ":1:4: 4 feature columns, expected 3; first extra: 'V4'");
}

BOOST_AUTO_TEST_CASE(WriteRejectsInconsistentDataAndUnwritablePaths) {
  TempDir dir;
  LabeledData data;
  data.feature_names = {"V1", "V2"};
  data.features = {1, 2, 3};
  data.labels = {0, 1};
  Status s = WriteLabeledCsv(dir.Path("bad.csv"), data, "Class");
  BOOST_CHECK(s.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(s.message().find("need 4 values, found 3") != std::string::npos);

  data.features = {1, 2, 3, 4};
  s = WriteLabeledCsv(dir.Path("bad.csv"), data, "V2");
  BOOST_CHECK(s.code() == StatusCode::kInvalidArgument);

  const std::string unwritable = dir.Path("no/such/dir/out.csv");
  s = WriteLabeledCsv(unwritable, data, "Class");
  BOOST_CHECK(s.code() == StatusCode::kIoError);
  BOOST_TEST(s.message().find(unwritable) != std::string::npos);
}

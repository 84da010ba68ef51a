#define BOOST_TEST_MODULE core_class_csv
#include <boost/test/unit_test.hpp>

// core/class_csv.h: a user's labelled CSV read against a model. Each check has a case that
// passes and one that fails with a message naming what and where.

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/class_csv.h"

using reflex::ClassCsvSpec;
using reflex::ClassCsvText;
using reflex::LabeledData;
using reflex::MatchClass;
using reflex::ReadClassCsv;
using reflex::Result;
using reflex::StatusCode;

namespace {

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("reflex_class_csv_test_" + std::to_string(random()) + "_" + std::to_string(random()));
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

 private:
  std::filesystem::path dir_;
};

const ClassCsvSpec kBinary{{"temp", "vib", "rpm"}, "failed", {"0", "1"}};
const ClassCsvSpec kThree{{"a", "b"}, "kind", {"ok", "bearing", "seal"}};

Result<LabeledData> Read(const std::string& content, const ClassCsvSpec& spec = kBinary) {
  static TempDir dir;
  return ReadClassCsv(dir.Write("data.csv", content), spec);
}

// The message of a read that must fail with InvalidArgument, without the folder.
std::string Error(const std::string& content, const ClassCsvSpec& spec = kBinary) {
  Result<LabeledData> r = Read(content, spec);
  BOOST_REQUIRE_MESSAGE(!r.ok(), "expected an error for:\n" << content);
  BOOST_TEST(static_cast<int>(r.status().code()) == static_cast<int>(StatusCode::kInvalidArgument));
  std::string m = r.status().message();
  const size_t at = m.find("data.csv");
  return at == std::string::npos ? m : m.substr(at);
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(TheModelsColumnsInOrderPass) {
  auto r = Read("temp,vib,rpm,failed\n60.5,2.1,1480,0\n75,3.2,1470,1\n");
  BOOST_REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  BOOST_TEST(r->feature_names == kBinary.features);
  BOOST_TEST(r->rows() == 2u);
  BOOST_TEST(r->features[3] == 75.0f);
  BOOST_TEST(r->labels[0] == 0);
  BOOST_TEST(r->labels[1] == 1);
  // The label column may stand anywhere.
  auto first = Read("failed,temp,vib,rpm\n1,60.5,2.1,1480\n");
  BOOST_REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  BOOST_TEST(first->features[0] == 60.5f);
}

BOOST_AUTO_TEST_CASE(MissingColumnsAreNamed) {
  const std::string m = Error("temp,failed\n1,0\n");
  BOOST_TEST(Has(m, "data.csv:1: the columns differ from the model's features: missing 'vib', 'rpm'"), m);
  BOOST_TEST(Has(m, "the model takes temp, vib, rpm, in that order"), m);
}

BOOST_AUTO_TEST_CASE(ExtraColumnsAreNamed) {
  const std::string m = Error("temp,vib,rpm,humidity,id,failed\n1,2,3,4,5,0\n");
  BOOST_TEST(Has(m, "data.csv:1: the columns differ from the model's features: extra 'humidity', 'id'"), m);
}

BOOST_AUTO_TEST_CASE(MissingAndExtraTogetherAreBothNamed) {
  const std::string m = Error("temp_f,vib,rpm,failed\n1,2,3,0\n");
  BOOST_TEST(Has(m, "missing 'temp'; extra 'temp_f'"), m);
}

BOOST_AUTO_TEST_CASE(MisorderedColumnsAreNamedWithTheirPositions) {
  const std::string m = Error("temp,rpm,vib,failed\n1,2,3,0\n");
  BOOST_TEST(Has(m, "data.csv:1:2: the feature columns are in another order than the model's"), m);
  BOOST_TEST(Has(m, "'rpm' is column 2 but the model's feature 3"), m);
  BOOST_TEST(Has(m, "'vib' is column 3 but the model's feature 2"), m);
  BOOST_TEST(!Has(m, "'temp'"), m);
}

BOOST_AUTO_TEST_CASE(AMissingLabelColumnIsNamedWithTheColumnsFound) {
  const std::string m = Error("temp,vib,rpm,label\n1,2,3,0\n");
  BOOST_TEST(Has(m, "data.csv:1: label column 'failed' not found (columns: temp, vib, rpm, label)"), m);
}

BOOST_AUTO_TEST_CASE(LabelsMustBeTheModelsClassesAndTheBadOneIsNamedWithItsLine) {
  // Numeric spellings of a numeric class name are that class.
  auto ok = Read("temp,vib,rpm,failed\n1,2,3,1.0\n1,2,3,0\n");
  BOOST_REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  BOOST_TEST(ok->labels[0] == 1);
  const std::string m = Error("temp,vib,rpm,failed\n1,2,3,0\n1,2,3,yes\n");
  BOOST_TEST(Has(m, "data.csv:3:4: label 'yes' in column 'failed' (data row 2) is not one of the model's classes: 0, 1"), m);
  const std::string two = Error("temp,vib,rpm,failed\n1,2,3,2\n");
  BOOST_TEST(Has(two, "label '2'"), two);
}

BOOST_AUTO_TEST_CASE(AFractionalLabelIsCalledARegressionTarget) {
  const std::string m = Error("temp,vib,rpm,failed\n1,2,3,23.7\n");
  BOOST_TEST(Has(m, "label '23.7'"), m);
  BOOST_TEST(Has(m, "regression target"), m);
}

BOOST_AUTO_TEST_CASE(NamedClassesMatchByName) {
  auto ok = Read("a,b,kind\n1,2,seal\n3,4,ok\n5,6,bearing\n", kThree);
  BOOST_REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  BOOST_TEST(ok->labels == (std::vector<uint8_t>{2, 0, 1}));
  const std::string m = Error("a,b,kind\n1,2,Seal\n", kThree);
  BOOST_TEST(Has(m, "label 'Seal' in column 'kind' (data row 1) is not one of the model's classes: ok, bearing, seal"), m);
  BOOST_TEST(MatchClass("1", kThree.classes) == -1);  // no class is named "1"
}

BOOST_AUTO_TEST_CASE(NaNIsRefusedNamingTheRowAndColumn) {
  const std::string m = Error("temp,vib,rpm,failed\n1,2,3,0\n4,NaN,6,1\n");
  BOOST_TEST(Has(m, "data.csv:3:2: NaN in column 'vib' (data row 2)"), m);
  const std::string inf = Error("temp,vib,rpm,failed\n1,2,inf,0\n");
  BOOST_TEST(Has(inf, "data.csv:2:3: value 'inf' in column 'rpm' is not a finite float (data row 1)"), inf);
  const std::string text = Error("temp,vib,rpm,failed\nhot,2,3,0\n");
  BOOST_TEST(Has(text, "data.csv:2:1: non-numeric value 'hot' in column 'temp' (data row 1)"), text);
  const std::string empty = Error("temp,vib,rpm,failed\n1,,3,0\n");
  BOOST_TEST(Has(empty, "data.csv:2:2: empty value in column 'vib' (data row 1)"), empty);
}

BOOST_AUTO_TEST_CASE(RaggedRowsAndEmptyFilesAreRefused) {
  const std::string ragged = Error("temp,vib,rpm,failed\n1,2,3\n");
  BOOST_TEST(Has(ragged, "data.csv:2: expected 4 fields, found 3 (data row 1)"), ragged);
  BOOST_TEST(Has(Error(""), "file is empty"));
  BOOST_TEST(Has(Error("temp,vib,rpm,failed\n"), "data.csv:2: no data rows"));
}

BOOST_AUTO_TEST_CASE(ClassCsvTextReadsBackUnchanged) {
  LabeledData d;
  d.feature_names = {"a", "b"};
  d.features = {0.1f, -2.5f, 1e-7f, 3.25f};
  d.labels = {2, 0};
  auto text = ClassCsvText(d, "kind", kThree.classes);
  BOOST_REQUIRE_MESSAGE(text.ok(), text.status().ToString());
  BOOST_TEST(Has(*text, "a,b,kind\n"), *text);
  BOOST_TEST(Has(*text, ",seal\n"), *text);
  auto back = Read(*text, kThree);
  BOOST_REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  BOOST_TEST(back->features == d.features);
  BOOST_TEST(back->labels == d.labels);
  d.labels = {3, 0};
  BOOST_TEST(!ClassCsvText(d, "kind", kThree.classes).ok());
}

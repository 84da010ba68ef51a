#define BOOST_TEST_MODULE transport_python_client
#include <boost/test/unit_test.hpp>

// Runs tools/python/reflex_client.py (Debian's /usr/bin/python3 with python3-zmq and
// python3-msgpack) against a real ScoringServer and checks what it prints.

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "transport/scoring_server.h"
#include "transport_test_util.h"

namespace fs = std::filesystem;
using reflex::transport::ScoringServer;
using reflex::transport::ScoringServerOptions;
using reflex::transport::testing::FakeScorer;
using reflex::transport::testing::ReferenceProbability;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kScript = std::string(REFLEX_SOURCE_DIR) + "/tools/python/reflex_client.py";

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("reflex_pyclient_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path file = path / name;
    std::ofstream(file) << text;
    return file.string();
  }
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Run {
  int exit_code = -1;
  std::string out, err;
};

// Runs the client with `args` (already shell-quoted where needed), stdin from `stdin_file`.
Run RunClient(const TempDir& dir, const std::string& args, const std::string& stdin_file = "/dev/null") {
  const fs::path out = dir.path / "stdout.txt";
  const fs::path err = dir.path / "stderr.txt";
  const std::string command = "timeout 60 " + kPython + " " + kScript + " " + args + " <" + stdin_file +
                              " >" + out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out);
  run.err = ReadFile(err);
  return run;
}

struct Scored {
  uint64_t request_id;
  size_t row;
  double probability;
  uint64_t version;
};

std::vector<Scored> ParseScores(const std::string& text) {
  std::vector<Scored> scores;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  BOOST_TEST(line == "request_id,row,probability,version");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Scored s{};
    char c1, c2, c3;
    std::istringstream fields(line);
    fields >> s.request_id >> c1 >> s.row >> c2 >> s.probability >> c3 >> s.version;
    BOOST_REQUIRE_MESSAGE(!fields.fail(), "unparsable line: " << line);
    scores.push_back(s);
  }
  return scores;
}

std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind("tcp://127.0.0.1:*");
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  socket.close();
  return endpoint;
}

const std::vector<std::vector<float>> kRows = {
    {0.5f, -1.25f, 2.0f}, {0.0f, 0.0f, 0.0f},  {-3.5f, 1.0f, 0.125f}, {1e-3f, 2e-3f, -4e-3f},
    {7.0f, -2.0f, 1.5f},  {-0.3f, -0.3f, -0.3f}, {0.1f, 0.2f, 0.3f},
};

std::string RowsCsv(bool header, const std::string& extra_column = "") {
  std::ostringstream csv;
  if (header) csv << "V1,V2,V3" << (extra_column.empty() ? "" : "," + extra_column) << "\n";
  csv << "# a comment line\n";
  for (const auto& row : kRows) {
    csv.precision(9);
    csv << row[0] << "," << row[1] << "," << row[2] << (extra_column.empty() ? "" : ",1") << "\n";
  }
  return csv.str();
}

void CheckScores(const std::vector<Scored>& scores, size_t batch_size) {
  BOOST_REQUIRE(scores.size() == kRows.size());
  for (size_t i = 0; i < kRows.size(); ++i) {
    const double expected = ReferenceProbability(kRows[i].data(), 3);
    BOOST_TEST(std::abs(scores[i].probability - expected) <= 1e-7, "row " << i << ": " << scores[i].probability
                                                                          << " vs " << expected);
    BOOST_TEST(scores[i].row == i % batch_size);
    BOOST_TEST(scores[i].version == 7u);
    // Rows of one request share its id; the next request has another.
    if (i % batch_size != 0) BOOST_TEST(scores[i].request_id == scores[i - 1].request_id);
    if (i > 0 && i % batch_size == 0) BOOST_TEST(scores[i].request_id != scores[i - 1].request_id);
  }
}

std::unique_ptr<ScoringServer> StartServer(std::shared_ptr<FakeScorer> scorer, ScoringServerOptions options = {}) {
  auto server = ScoringServer::Start(scorer, options);
  BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  return std::move(server.value());
}

}  // namespace

BOOST_AUTO_TEST_CASE(PythonClientScoresCsvRowsAcrossReplicasOneOfThemDead) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  TempDir dir;
  const std::string csv = dir.Write("rows.csv", RowsCsv(/*header=*/true, "Class"));
  Run run = RunClient(dir, "score --endpoint " + DeadEndpoint() + " --endpoint " + server->endpoint() +
                               " --input " + csv + " --batch-size 3 --drop-column Class --attempts 4");
  BOOST_TEST_REQUIRE(run.exit_code == 0, run.err);
  CheckScores(ParseScores(run.out), 3);
  BOOST_TEST(server->stats().score_requests == 3u);  // 7 rows in requests of 3
  BOOST_TEST(server->stats().rows_scored == kRows.size());
}

BOOST_AUTO_TEST_CASE(PythonClientScoresRowsFromStdin) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  TempDir dir;
  const std::string csv = dir.Write("rows.csv", RowsCsv(/*header=*/false));
  Run run = RunClient(dir, "score --endpoint " + server->endpoint() + " --input -", csv);
  BOOST_TEST_REQUIRE(run.exit_code == 0, run.err);
  CheckScores(ParseScores(run.out), 100);
}

BOOST_AUTO_TEST_CASE(PythonClientSendsLabelFeedback) {
  auto scorer = std::make_shared<FakeScorer>(3);
  std::mutex mu;
  std::vector<reflex::wire::LabelFeedback> labels;
  ScoringServerOptions options;
  options.label_sink = [&](const reflex::wire::LabelFeedback& label) {
    std::lock_guard<std::mutex> lock(mu);
    labels.push_back(label);
    return reflex::transport::LabelOutcome::kJoined;
  };
  auto server = StartServer(scorer, options);
  TempDir dir;
  Run one = RunClient(dir, "label --endpoint " + server->endpoint() +
                               " --request-id 123456789012 --row 4 --label 1");
  BOOST_TEST_REQUIRE(one.exit_code == 0, one.err);
  const std::string file = dir.Write("labels.csv", "request_id,row,label\n77,0,0\n77,2,1\n");
  Run many = RunClient(dir, "label --endpoint " + server->endpoint() + " --input " + file);
  BOOST_TEST_REQUIRE(many.exit_code == 0, many.err);
  BOOST_TEST(many.out == "labels: 2 received, 2 joined, 0 forwarded, 0 dropped\n");

  std::lock_guard<std::mutex> lock(mu);
  BOOST_REQUIRE(labels.size() == 3u);
  BOOST_TEST(labels[0].request_id == 123456789012u);
  BOOST_TEST(labels[0].row == 4u);
  BOOST_TEST(labels[0].label == 1u);
  BOOST_TEST(labels[2].request_id == 77u);
  BOOST_TEST(labels[2].row == 2u);
  BOOST_TEST(labels[2].label == 1u);
}

BOOST_AUTO_TEST_CASE(PythonClientKeepsSixtyTwoBitRequestIdsExactAndExitsNonZeroWhenEveryLabelDrops) {
  auto scorer = std::make_shared<FakeScorer>(3);
  std::mutex mu;
  std::vector<reflex::wire::LabelFeedback> labels;
  ScoringServerOptions options;
  const uint64_t known = (uint64_t{1} << 62) + 3;  // a double would round it to 2^62
  options.label_sink = [&](const reflex::wire::LabelFeedback& label) {
    std::lock_guard<std::mutex> lock(mu);
    labels.push_back(label);
    return label.request_id == known ? reflex::transport::LabelOutcome::kJoined
                                     : reflex::transport::LabelOutcome::kUnknownRequest;
  };
  auto server = StartServer(scorer, options);
  TempDir dir;
  const std::string mixed = dir.Write("mixed.csv", "request_id,row,label\n" + std::to_string(known) + ",0,1\n" +
                                                       std::to_string(known + 1) + ",1,0\n");
  Run some = RunClient(dir, "label --endpoint " + server->endpoint() + " --input " + mixed);
  BOOST_TEST(some.exit_code == 0, some.err);
  BOOST_TEST(some.out == "labels: 2 received, 1 joined, 0 forwarded, 1 dropped (unknown request 1)\n");
  {
    std::lock_guard<std::mutex> lock(mu);
    BOOST_REQUIRE(labels.size() == 2u);
    BOOST_TEST(labels[0].request_id == known);
    BOOST_TEST(labels[1].request_id == known + 1);
  }
  const std::string lost = dir.Write("lost.csv", std::to_string(known + 7) + ",0,1\n");
  Run none = RunClient(dir, "label --endpoint " + server->endpoint() + " --input " + lost);
  BOOST_TEST(none.exit_code == 1);
  BOOST_TEST(none.out == "labels: 1 received, 0 joined, 0 forwarded, 1 dropped (unknown request 1)\n");
  BOOST_TEST(none.err.find("every label was dropped") != std::string::npos, none.err);
}

BOOST_AUTO_TEST_CASE(PythonClientPrintsTheSchemaAndScoresKClassModelsInVersionTwo) {
  auto scorer = std::make_shared<FakeScorer>(3);
  scorer->set_classes(3);
  scorer->set_schema({{"V1", "V2", "V3"}, {"0", "1", "2"}});
  auto server = StartServer(scorer);
  TempDir dir;
  Run schema = RunClient(dir, "schema --endpoint " + server->endpoint());
  BOOST_TEST_REQUIRE(schema.exit_code == 0, schema.err);
  BOOST_TEST(schema.out.find("\"feature_names\": [\"V1\", \"V2\", \"V3\"]") != std::string::npos, schema.out);
  BOOST_TEST(schema.out.find("\"protocol_versions\": [2]") != std::string::npos, schema.out);
  // Columns named in another order: the server reorders them.
  const std::string rows = dir.Write("rows.csv", "V3,V1,V2\n0.5,-1,2\n");
  Run scored = RunClient(dir, "score --columns --endpoint " + server->endpoint() + " --input " + rows);
  BOOST_TEST_REQUIRE(scored.exit_code == 0, scored.err);
  float expected[3];
  const float model_order[3] = {-1.0f, 2.0f, 0.5f};
  reflex::transport::testing::ReferenceClassProbabilities(model_order, 3, 3, expected);
  std::istringstream out(scored.out);
  std::string header, line;
  std::getline(out, header);
  std::getline(out, line);
  BOOST_TEST(header == "request_id,row,class,p0,p1,p2,version");
  std::vector<std::string> fields;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
  BOOST_REQUIRE(fields.size() == 7u);
  BOOST_TEST(fields[2] == "2");
  for (int k = 0; k < 3; ++k) BOOST_TEST(std::abs(std::stod(fields[3 + k]) - expected[k]) < 1e-7);
}

BOOST_AUTO_TEST_CASE(PythonClientReportsServerRefusalsAndSilence) {
  auto scorer = std::make_shared<FakeScorer>(3);
  auto server = StartServer(scorer);
  TempDir dir;
  const std::string wide = dir.Write("wide.csv", "1,2,3,4\n");
  Run refused = RunClient(dir, "score --endpoint " + server->endpoint() + " --input " + wide);
  BOOST_TEST(refused.exit_code == 1);
  BOOST_TEST(refused.err.find("WrongFeatureCount") != std::string::npos, refused.err);

  const std::string ok = dir.Write("ok.csv", "1,2,3\n");
  Run silent = RunClient(dir, "score --endpoint " + DeadEndpoint() + " --input " + ok +
                                  " --timeout-ms 300 --attempt-timeout-ms 100");
  BOOST_TEST(silent.exit_code == 3);
  BOOST_TEST(silent.err.find("no reply") != std::string::npos, silent.err);
}

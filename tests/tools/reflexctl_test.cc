#define BOOST_TEST_MODULE tools_reflexctl
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "reply_printer.h"
#include "transport/control_server.h"

// Runs the built reflexctl (path given by CMake) against an in-test fake coordinator and checks
// what an operator relies on: output, exit codes (0 ok, 1 refused, 2 usage, 3 unreachable) and
// that it never hangs.
extern char** environ;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using reflex::transport::ControlServer;
using reflex::wire::ControlReply;
using reflex::wire::ControlRequest;
using reflex::wire::ErrorCode;
using Clock = std::chrono::steady_clock;

namespace {

struct Run {
  int code = -1;        // exit status; -1 when it did not exit by itself within the bound
  std::string out, err;
  int64_t took_ms = 0;
};

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs reflexctl with `args` (and `env` added to this process's environment), stdout and
// stderr captured apart. Killed after 20 s: a hang fails the test instead of blocking it.
Run Ctl(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  static int counter = 0;
  const std::string stem = "reflexctl_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const fs::path out_path = fs::temp_directory_path() / (stem + ".out");
  const fs::path err_path = fs::temp_directory_path() / (stem + ".err");

  std::vector<std::string> argv_text = {REFLEXCTL_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    if (std::string(*e).rfind("REFLEX_CONTROL=", 0) != 0) env_text.push_back(*e);
  }
  env_text.insert(env_text.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Run run;
  const auto start = Clock::now();
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  BOOST_REQUIRE_MESSAGE(spawned == 0, "posix_spawn " << REFLEXCTL_BINARY << " failed: " << spawned);
  int status = 0;
  bool exited = false;
  while (Clock::now() - start < 20s) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  run.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  if (exited && WIFEXITED(status)) run.code = WEXITSTATUS(status);
  run.out = Read(out_path);
  run.err = Read(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  return run;
}

const char* kStatusBody = R"({"epoch":3,"current_version":5,"mode":"auto","pinned":null,"heal_in_flight":false,)"
                          R"("drift":{"max_z":1.75,"feature":"x0","conflict_rate":0.04,"rows":1200,"drift":true},)"
                          R"("replicas":[{"id":"replica-1","version":5,"epoch":3,"fenced":false,"ready":true,"rows_scored":600,"summary_age_ms":350,"endpoint":"tcp://10.0.0.1:7001"},)"
                          R"({"id":"replica-2","version":4,"epoch":9,"fenced":true,"ready":false,"rows_scored":600,"summary_age_ms":12000,"endpoint":"tcp://10.0.0.2:7001"}],)"
                          R"("healers":[{"id":"healer-1","device":"cpu","load":0,"alive":true,"heartbeat_age_ms":120}]})";

// A fake coordinator: answers the commands reflexctl sends and records the last request.
class FakeCoordinator {
 public:
  FakeCoordinator() {
    auto server = ControlServer::Start([this](const ControlRequest& request) { return Answer(request); }, {});
    BOOST_REQUIRE_MESSAGE(server.ok(), server.status().ToString());
    server_ = std::move(server.value());
  }
  const std::string& endpoint() const { return server_->endpoint(); }
  ControlRequest last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  ControlReply Answer(const ControlRequest& request) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = request;
    }
    ControlReply reply;
    if (request.command == "status") {
      reply.body_json = kStatusBody;
    } else if (request.command == "policy-set") {
      if (request.args.size() == 2 && request.args[0] == "lr" && request.args[1] == "abc") {
        reply.error = ErrorCode::kInvalidArgument;
        reply.message = "policy lr: 'abc' is not a number";
      } else {
        reply.body_json = R"({"policy":{"steps":"5","lr":")" + request.args.at(1) + R"("}})";
      }
    } else if (request.command == "policy-get") {
      reply.body_json = R"({"policy":{"steps":"5","lr":"0.003","entropy_weight":"0.1"}})";
    } else if (request.command == "rollback" || request.command == "pin") {
      reply.body_json = R"({"version":9,"weights_of":2})";
    } else if (request.command == "history") {
      reply.body_json = R"({"versions":[{"version":0,"parent":0,"epoch":1,"reason":"deployed","created_unix_ms":1700000000000,"active":false,"metrics":{}},)"
                        R"({"version":1,"parent":0,"epoch":1,"reason":"heal","created_unix_ms":1700000060000,"active":true,"metrics":{"f1":0.71,"pos_rate":0.02}}]})";
    } else {
      reply.body_json = R"({"mode":"frozen","pinned":null})";
    }
    return reply;
  }

  std::mutex mu_;
  ControlRequest last_;
  std::unique_ptr<ControlServer> server_;
};

// An endpoint nobody listens on: bind an ephemeral port, read it back, close the socket.
std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind("tcp://127.0.0.1:*");
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  socket.close();
  return endpoint;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_CASE(StatusPrintsTheHeaderAndEveryReplicaAndHealer) {
  FakeCoordinator coordinator;
  Run r = Ctl({"--endpoint", coordinator.endpoint(), "status"});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(Has(r.out, "replica-1"), r.out);
  BOOST_TEST(Has(r.out, "replica-2"), r.out);
  BOOST_TEST(Has(r.out, "FENCED"), r.out);
  BOOST_TEST(Has(r.out, "healer-1"), r.out);
  BOOST_TEST(Has(r.out, "epoch 3"), r.out);
  BOOST_TEST(Has(r.out, "mode auto"), r.out);
  BOOST_TEST(Has(r.out, "SUMMARY_AGE"), r.out);
  BOOST_TEST(Has(r.out, "12.0s"), r.out);
  BOOST_TEST(coordinator.last().command == "status");
  BOOST_TEST(coordinator.last().args.empty());
}

BOOST_AUTO_TEST_CASE(JsonFlagPrintsTheBodyOnOneLine) {
  FakeCoordinator coordinator;
  Run r = Ctl({"--endpoint", coordinator.endpoint(), "--json", "status"});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.out == std::string(kStatusBody) + "\n");
  BOOST_TEST(nlohmann::json::parse(r.out)["replicas"].size() == 2u);
}

BOOST_AUTO_TEST_CASE(RefusedPolicySetExitsOneWithTheCoordinatorsMessage) {
  FakeCoordinator coordinator;
  Run r = Ctl({"--endpoint", coordinator.endpoint(), "policy", "set", "lr", "abc"});
  BOOST_TEST(r.code == 1);
  BOOST_TEST(Has(r.err, "reflexctl: policy-set refused: policy lr: 'abc' is not a number"), r.err);
  BOOST_TEST(r.out.empty(), r.out);
  const ControlRequest sent = coordinator.last();
  BOOST_TEST(sent.command == "policy-set");
  BOOST_TEST((sent.args == std::vector<std::string>{"lr", "abc"}));
}

BOOST_AUTO_TEST_CASE(CommandsMapToTheirWireNamesAndArguments) {
  FakeCoordinator coordinator;
  struct Case {
    std::vector<std::string> words;
    std::string command;
    std::vector<std::string> args;
  };
  const std::vector<Case> cases = {
      {{"policy", "show"}, "policy-get", {}},  {{"policy", "set", "lr", "0.01"}, "policy-set", {"lr", "0.01"}},
      {{"heal"}, "heal", {}},                   {{"rollback"}, "rollback", {}},
      {{"rollback", "3"}, "rollback", {"3"}},   {{"pin", "4"}, "pin", {"4"}},
      {{"unpin"}, "unpin", {}},                 {{"freeze"}, "freeze", {}},
      {{"unfreeze"}, "unfreeze", {}},           {{"history"}, "history", {}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--endpoint", coordinator.endpoint()};
    args.insert(args.end(), c.words.begin(), c.words.end());
    Run r = Ctl(args);
    BOOST_TEST(r.code == 0, c.command << ": " << r.err);
    BOOST_TEST(coordinator.last().command == c.command);
    BOOST_TEST((coordinator.last().args == c.args), c.command);
  }
}

BOOST_AUTO_TEST_CASE(HumanOutputForPolicyRollbackAndHistory) {
  FakeCoordinator coordinator;
  Run policy = Ctl({"--endpoint", coordinator.endpoint(), "policy", "show"});
  BOOST_TEST(policy.out == "entropy_weight = 0.1\nlr = 0.003\nsteps = 5\n");
  Run rollback = Ctl({"--endpoint", coordinator.endpoint(), "rollback"});
  BOOST_TEST(rollback.out == "serving version 9 (weights of version 2)\n");
  Run history = Ctl({"--endpoint", coordinator.endpoint(), "history"});
  BOOST_TEST(Has(history.out, "VERSION"), history.out);
  BOOST_TEST(Has(history.out, "2023-11-14T22:14:20Z"), history.out);
  BOOST_TEST(Has(history.out, "f1=0.71,pos_rate=0.02"), history.out);
  Run freeze = Ctl({"--endpoint", coordinator.endpoint(), "freeze"});
  BOOST_TEST(freeze.out == "mode frozen  pinned -\n");
}

BOOST_AUTO_TEST_CASE(UnreachableEndpointExitsThreeWithinTheTimeout) {
  const std::string endpoint = DeadEndpoint();
  Run r = Ctl({"--endpoint", endpoint, "--timeout-ms", "300", "status"});
  BOOST_TEST(r.code == 3);
  BOOST_TEST(Has(r.err, "no reply from the coordinator at " + endpoint + " within 300 ms (is it running?)"), r.err);
  BOOST_TEST(r.took_ms < 300 + 2500);  // the timeout plus a process start
}

BOOST_AUTO_TEST_CASE(EndpointComesFromReflexControlWhenNotGiven) {
  FakeCoordinator coordinator;
  Run r = Ctl({"status"}, {"REFLEX_CONTROL=" + coordinator.endpoint()});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(Has(r.out, "replica-1"), r.out);
}

BOOST_AUTO_TEST_CASE(UsageErrorsExitTwo) {
  BOOST_TEST(Ctl({"frobnicate"}).code == 2);
  BOOST_TEST(Ctl({}).code == 2);                       // no command
  BOOST_TEST(Ctl({"policy"}).code == 2);               // no policy subcommand
  BOOST_TEST(Ctl({"policy", "set", "lr"}).code == 2);  // VALUE missing
  BOOST_TEST(Ctl({"pin"}).code == 2);
  BOOST_TEST(Ctl({"pin", "latest"}).code == 2);
  BOOST_TEST(Ctl({"--timeout-ms", "-5", "status"}).code == 2);
  BOOST_TEST(Ctl({"--endpoint", "nonsense", "status"}).code == 2);
  Run help = Ctl({"--help"});
  BOOST_TEST(help.code == 0);
  BOOST_TEST(Has(help.out, "rollback"), help.out);
}

// The printer directly: fields that are missing or of the wrong type print "-", never crash.
BOOST_AUTO_TEST_CASE(MissingOrOddFieldsPrintDashes) {
  using reflex::reflexctl::FormatReply;
  const std::string sparse = FormatReply("status", R"({"replicas":[{"id":"r1"}],"healers":[{}],"drift":5})");
  BOOST_TEST(Has(sparse, "epoch -"), sparse);
  BOOST_TEST(Has(sparse, "r1"), sparse);
  BOOST_TEST(FormatReply("status", "{}").find("replicas: none") != std::string::npos);
  BOOST_TEST(FormatReply("status", "not json") == "not json\n");
  BOOST_TEST(FormatReply("history", R"({"versions":[{"metrics":null,"created_unix_ms":"x"}]})").find("VERSION") == 0u);
  BOOST_TEST(FormatReply("policy-get", R"({"policy":[1,2]})").find("[") != std::string::npos);
  BOOST_TEST(FormatReply("something-new", R"({"a":1})") == "{\n  \"a\": 1\n}\n");
  BOOST_TEST(FormatReply("heal", "[1,2]") == "[\n  1,\n  2\n]\n");
  BOOST_TEST(FormatReply("heal", "") == "heal: done\n");
  BOOST_TEST(reflex::reflexctl::OneLineJson("{\n \"a\": 1\n}") == R"({"a":1})");
}

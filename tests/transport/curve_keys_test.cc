#define BOOST_TEST_MODULE transport_curve_keys
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "transport/curve_keys.h"

using namespace reflex;
using namespace reflex::transport;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/reflex-curve-keys-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

CurveKeyPair Keys() {
  auto keys = GenerateCurveKeyPair();
  BOOST_REQUIRE_MESSAGE(keys.ok(), keys.status().ToString());
  return *keys;
}

}  // namespace

BOOST_AUTO_TEST_CASE(GeneratedKeyPairRoundTripsThroughKeyFiles) {
  TempDir dir;
  const CurveKeyPair keys = Keys();
  BOOST_TEST(keys.public_key.size() == kCurveKeyZ85Length);
  BOOST_TEST(keys.secret_key.size() == kCurveKeyZ85Length);
  BOOST_TEST(*DerivePublicKey(keys.secret_key, "test") == keys.public_key);

  const std::string folder = dir.path + "/keys";  // created by WriteKeyPair
  BOOST_REQUIRE(WriteKeyPair(folder, "coordinator", keys).ok());
  struct stat info {};
  BOOST_REQUIRE(::stat((folder + "/coordinator.key").c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0777) == 0600u);
  BOOST_REQUIRE(::stat((folder + "/coordinator.pub").c_str(), &info) == 0);
  BOOST_TEST((info.st_mode & 0077) != 0u);  // the public half is readable by others

  auto read = ReadKeyPair(folder, "coordinator");
  BOOST_REQUIRE_MESSAGE(read.ok(), read.status().ToString());
  BOOST_TEST(read->public_key == keys.public_key);
  BOOST_TEST(read->secret_key == keys.secret_key);
  auto public_key = ReadPublicKey(folder + "/coordinator.pub");
  BOOST_REQUIRE(public_key.ok());
  BOOST_TEST(*public_key == keys.public_key);
}

BOOST_AUTO_TEST_CASE(AllowListReadsAFolderOfPublicKeysOrAListFile) {
  TempDir dir;
  const CurveKeyPair a = Keys(), b = Keys();
  BOOST_REQUIRE(WriteKeyPair(dir.path, "replica-a", a).ok());
  BOOST_REQUIRE(WriteKeyPair(dir.path, "replica-b", b).ok());
  auto from_folder = ReadAllowList(dir.path);  // the .key files are not read
  BOOST_REQUIRE_MESSAGE(from_folder.ok(), from_folder.status().ToString());
  BOOST_TEST(from_folder->size() == 2u);
  BOOST_TEST(from_folder->at(0) == a.public_key);

  const std::string list = dir.path + "/allowed.txt";
  WriteText(list, "# replicas allowed to listen\n\n  " + b.public_key + "  \n" + a.public_key +
                      "\n" + b.public_key + "\n");
  auto from_file = ReadAllowList(list);
  BOOST_REQUIRE_MESSAGE(from_file.ok(), from_file.status().ToString());
  BOOST_TEST(from_file->size() == 2u);  // duplicates removed, order kept
  BOOST_TEST(from_file->at(0) == b.public_key);
}

BOOST_AUTO_TEST_CASE(BadKeyFilesAreRefusedNamingTheFileAndWhy) {
  TempDir dir;
  const CurveKeyPair keys = Keys();
  const std::string short_key = dir.path + "/short.pub";
  WriteText(short_key, keys.public_key.substr(0, 39) + "\n");
  auto short_result = ReadPublicKey(short_key);
  BOOST_REQUIRE(!short_result.ok());
  BOOST_CHECK(short_result.status().code() == StatusCode::kInvalidArgument);
  BOOST_TEST(Contains(short_result.status().message(), short_key));
  BOOST_TEST(Contains(short_result.status().message(), "39 characters"));

  const std::string not_z85 = dir.path + "/tilde.pub";
  WriteText(not_z85, keys.public_key.substr(0, 10) + "~" + keys.public_key.substr(11) + "\n");
  auto tilde = ReadPublicKey(not_z85);
  BOOST_REQUIRE(!tilde.ok());
  BOOST_TEST(Contains(tilde.status().message(), not_z85));
  BOOST_TEST(Contains(tilde.status().message(), "column 11 is not Z85"));

  const std::string two = dir.path + "/two.pub";
  WriteText(two, keys.public_key + "\n" + keys.public_key + "\n");
  BOOST_TEST(Contains(ReadPublicKey(two).status().message(), "expected exactly 1"));

  BOOST_CHECK(ReadPublicKey(dir.path + "/missing.pub").status().code() == StatusCode::kNotFound);
  BOOST_CHECK(ReadAllowList(dir.path + "/missing").status().code() == StatusCode::kNotFound);

  // A .pub that does not belong to the .key next to it.
  BOOST_REQUIRE(WriteKeyPair(dir.path, "node", keys).ok());
  WriteText(dir.path + "/node.pub", Keys().public_key + "\n");
  auto mismatched = ReadKeyPair(dir.path, "node");
  BOOST_REQUIRE(!mismatched.ok());
  BOOST_TEST(Contains(mismatched.status().message(), "does not belong"));

  // Writing refuses mismatched halves, and a bad allow-list names the file and line.
  CurveKeyPair crossed{Keys().public_key, keys.secret_key};
  BOOST_CHECK(WriteKeyPair(dir.path, "crossed", crossed).code() == StatusCode::kInvalidArgument);
  const std::string list = dir.path + "/list.txt";
  WriteText(list, keys.public_key + "\nnot-a-key\n");
  auto bad_list = ReadAllowList(list);
  BOOST_REQUIRE(!bad_list.ok());
  BOOST_TEST(Contains(bad_list.status().message(), list + ":2"));
  TempDir empty;
  BOOST_CHECK(ReadAllowList(empty.path).status().code() == StatusCode::kInvalidArgument);
}

BOOST_AUTO_TEST_CASE(ApplyingMalformedKeysToASocketFailsCleanly) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::linger, 0);
  const CurveKeyPair keys = Keys();
  const Status bad_server = ApplyCurveClient(socket, keys, "too-short");
  BOOST_CHECK(bad_server.code() == StatusCode::kInvalidArgument);
  BOOST_TEST(Contains(bad_server.message(), "server public key"));
  BOOST_TEST(ApplyCurveClient(socket, keys, Keys().public_key).ok());
  zmq::socket_t server(context, zmq::socket_type::pub);
  server.set(zmq::sockopt::linger, 0);
  BOOST_TEST(!ApplyCurveServer(server, CurveKeyPair{keys.public_key, "x"}).ok());
  BOOST_TEST(ApplyCurveServer(server, keys).ok());
}

BOOST_AUTO_TEST_CASE(OnlyOneZapAuthenticatorPerContext) {
  zmq::context_t context;
  const CurveKeyPair keys = Keys();
  auto first = ZapAuthenticator::Start(context, {keys.public_key});
  BOOST_REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  auto second = ZapAuthenticator::Start(context, {keys.public_key});
  BOOST_CHECK(second.status().code() == StatusCode::kFailedPrecondition);
  BOOST_TEST(!ZapAuthenticator::Start(context, {"bad"}).ok());
  BOOST_TEST(!(*first)->SetAllowList({"bad"}).ok());
  (*first)->Stop();
  // Once stopped, the endpoint is free again.
  auto third = ZapAuthenticator::Start(context, {keys.public_key});
  BOOST_TEST(third.ok());
}

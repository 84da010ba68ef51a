// ZeroMQ CURVE keys: the one place Reflex generates, stores, loads, checks and applies them.
//
// A key is the Z85 text form of a 32-byte Curve25519 key: exactly 40 characters from the Z85
// alphabet. On disk a key pair `name` lives in a folder as two text files:
//   <dir>/<name>.key  the secret key, one line, file mode 0600 (owner read/write only)
//   <dir>/<name>.pub  the public key, one line, mode 0644 (safe to hand to peers)
// Key files and allow-list files are read line by line: surrounding blanks are trimmed, blank
// lines and lines starting with "# " (or a lone "#") are ignored. Z85 contains '#', but never a
// blank, so "# " cannot begin a key. Every error names the file and says why ("has 39
// characters, a Z85 CURVE key has 40"; "character ' ' at column 7 is not Z85").
//
// Which side is which (ZeroMQ's terms): the side that binds and is authenticated by its key is
// the CURVE *server* (the coordinator's weight publisher, a scoring server); the side that knows
// the server's public key in advance is the CURVE *client*. A client that was given the wrong
// server public key cannot complete the handshake, so nothing from an impostor ever arrives.
// Which clients a server accepts is decided by a ZAP handler on the server's zmq::context_t
// (zap_authenticator.h, included below for convenience); with no handler bound, a CURVE server
// accepts every client that completes the handshake.
//
// Plain functions, safe from any thread. Apply* must be called before the socket binds or
// connects, by the thread that owns the socket.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "core/status.h"
#include "transport/zap_authenticator.h"

namespace reflex::transport {

constexpr size_t kCurveKeyZ85Length = 40;

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; never log it
};

// OK when `key` is 40 Z85 characters that decode to 32 bytes; otherwise InvalidArgument whose
// message starts with `what` (a file name or "server public key") and says why.
Status CheckZ85Key(const std::string& key, const std::string& what);

// The public key that belongs to a Z85 secret key.
Result<std::string> DerivePublicKey(const std::string& secret_key, const std::string& what);

// A fresh key pair from zmq_curve_keypair. Internal when libzmq was built without CURVE.
Result<CurveKeyPair> GenerateCurveKeyPair();

// Creates `dir` (one level) when missing, then writes <dir>/<name>.key (mode 0600) and
// <dir>/<name>.pub, each through a temporary file and a rename. InvalidArgument when a key is
// malformed, the public key does not belong to the secret key, or `name` is empty or has a '/';
// IoError naming the path otherwise.
Status WriteKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& pair);

// Reads <dir>/<name>.key and <dir>/<name>.pub and checks that they belong together.
Result<CurveKeyPair> ReadKeyPair(const std::string& dir, const std::string& name);

// Reads one public key from a file holding exactly one key line.
Result<std::string> ReadPublicKey(const std::string& path);

// The client public keys a server accepts. `dir_or_file` is either a folder, whose *.pub files
// (sorted by name, one key each) are read, or a file with one key per line. Duplicates are
// removed; order is kept. NotFound when the path does not exist; InvalidArgument (naming the
// file and line) for a bad key; an empty list is InvalidArgument too (accepting nobody is a
// configuration mistake, not a policy).
Result<std::vector<std::string>> ReadAllowList(const std::string& dir_or_file);

// Makes `socket` a CURVE server with `server`'s keys. Call before bind().
Status ApplyCurveServer(zmq::socket_t& socket, const CurveKeyPair& server);

// Makes `socket` a CURVE client that only talks to the server owning `server_public`.
// Call before connect().
Status ApplyCurveClient(zmq::socket_t& socket, const CurveKeyPair& client,
                        const std::string& server_public);

// CURVE settings a bus or server endpoint carries in its options.
struct CurveServerConfig {
  CurveKeyPair server;  // this endpoint's own keys
};
struct CurveClientConfig {
  CurveKeyPair client;        // this endpoint's own keys (listed in the server's allow-list)
  std::string server_public;  // the only server this endpoint will talk to
};

// Secures a server socket before bind(): with `curve` set, makes it a CURVE server with those
// keys and, when `allowed_clients` is not empty, starts a ZapAuthenticator on `context` that
// admits only those client keys (stored in *zap, which must outlive the socket). Without
// `curve` it does nothing. Errors say what failed, prefixed with `who`.
Status SecureServerSocket(zmq::context_t& context, zmq::socket_t& socket, const std::optional<CurveServerConfig>& curve,
                          const std::vector<std::string>& allowed_clients, std::unique_ptr<ZapAuthenticator>* zap,
                          const std::string& who);

}  // namespace reflex::transport

#include "transport/curve_keys.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/atomic_file.h"

namespace reflex::transport {
namespace {

constexpr char kZ85Alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string OsError(int error) { return std::strerror(error); }

std::string Trim(const std::string& text) {
  const char* blanks = " \t\r\n";
  const size_t begin = text.find_first_not_of(blanks);
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(blanks);
  return text.substr(begin, end - begin + 1);
}

bool IsComment(const std::string& line) { return line == "#" || line.rfind("# ", 0) == 0; }

// Key lines of `text` with their 1-based line numbers.
std::vector<std::pair<int, std::string>> KeyLines(const std::string& text) {
  std::vector<std::pair<int, std::string>> lines;
  size_t start = 0;
  int number = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++number;
    const std::string line = Trim(text.substr(start, end - start));
    if (!line.empty() && !IsComment(line)) lines.emplace_back(number, line);
    start = end + 1;
  }
  return lines;
}

// The single key a .key or .pub file holds.
Result<std::string> ReadSingleKey(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  const auto lines = KeyLines(*text);
  if (lines.size() != 1) {
    return Status::InvalidArgument(path + ": holds " + std::to_string(lines.size()) +
                                   " key lines, expected exactly 1");
  }
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(lines[0].second, path + ":" + std::to_string(lines[0].first)));
  return lines[0].second;
}

// Writes `bytes` to `path` with `mode` through "<path>.tmp" and a rename.
Status WriteWithMode(const std::string& path, const std::string& bytes, mode_t mode) {
  const std::string temporary = path + kTemporaryFileSuffix;
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError(temporary + ": cannot create: " + OsError(errno));
  Status status;
  // The file may have existed with a wider mode; O_CREAT's mode only applies to new files.
  if (::fchmod(fd, mode) != 0) status = Status::IoError(temporary + ": chmod: " + OsError(errno));
  size_t written = 0;
  while (status.ok() && written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError(temporary + ": write: " + OsError(errno));
    else written += static_cast<size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) status = Status::IoError(temporary + ": fsync: " + OsError(errno));
  ::close(fd);
  if (status.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    status = Status::IoError(path + ": rename from " + temporary + ": " + OsError(errno));
  }
  if (!status.ok()) ::unlink(temporary.c_str());
  return status;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Status CheckZ85Key(const std::string& key, const std::string& what) {
  if (key.size() != kCurveKeyZ85Length) {
    return Status::InvalidArgument(what + ": key has " + std::to_string(key.size()) +
                                   " characters, a Z85 CURVE key has 40");
  }
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '\0' || std::strchr(kZ85Alphabet, key[i]) == nullptr) {
      return Status::InvalidArgument(what + ": character '" + std::string(1, key[i]) +
                                     "' at column " + std::to_string(i + 1) + " is not Z85");
    }
  }
  uint8_t decoded[32];
  if (zmq_z85_decode(decoded, key.c_str()) == nullptr) {
    return Status::InvalidArgument(what + ": key is not valid Z85 (a 5-character group overflows)");
  }
  return Status::Ok();
}

Result<std::string> DerivePublicKey(const std::string& secret_key, const std::string& what) {
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(secret_key, what));
  char public_key[kCurveKeyZ85Length + 1] = {};
  if (zmq_curve_public(public_key, secret_key.c_str()) != 0) {
    return Status::Internal(what + ": zmq_curve_public failed: " + zmq_strerror(zmq_errno()));
  }
  return std::string(public_key);
}

Result<CurveKeyPair> GenerateCurveKeyPair() {
  char public_key[kCurveKeyZ85Length + 1] = {};
  char secret_key[kCurveKeyZ85Length + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Internal(std::string("zmq_curve_keypair failed (libzmq without CURVE?): ") +
                            zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Status WriteKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& pair) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return Status::InvalidArgument("key pair name '" + name + "' must be non-empty without '/'");
  }
  const std::string key_path = dir + "/" + name + ".key";
  const std::string pub_path = dir + "/" + name + ".pub";
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(pair.public_key, pub_path + " (public key to write)"));
  Result<std::string> derived = DerivePublicKey(pair.secret_key, key_path + " (secret key to write)");
  if (!derived.ok()) return derived.status();
  if (*derived != pair.public_key) {
    return Status::InvalidArgument(pub_path + ": public key does not belong to the secret key");
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IoError(dir + ": cannot create folder: " + OsError(errno));
  }
  REFLEX_RETURN_IF_ERROR(WriteWithMode(key_path, pair.secret_key + "\n", 0600));
  return WriteWithMode(pub_path, pair.public_key + "\n", 0644);
}

Result<CurveKeyPair> ReadKeyPair(const std::string& dir, const std::string& name) {
  const std::string key_path = dir + "/" + name + ".key";
  const std::string pub_path = dir + "/" + name + ".pub";
  Result<std::string> secret = ReadSingleKey(key_path);
  if (!secret.ok()) return secret.status();
  Result<std::string> public_key = ReadSingleKey(pub_path);
  if (!public_key.ok()) return public_key.status();
  Result<std::string> derived = DerivePublicKey(*secret, key_path);
  if (!derived.ok()) return derived.status();
  if (*derived != *public_key) {
    return Status::InvalidArgument(pub_path + ": public key does not belong to the secret key in " +
                                   key_path);
  }
  return CurveKeyPair{*public_key, *secret};
}

Result<std::string> ReadPublicKey(const std::string& path) { return ReadSingleKey(path); }

Result<std::vector<std::string>> ReadAllowList(const std::string& dir_or_file) {
  struct stat info {};
  if (::stat(dir_or_file.c_str(), &info) != 0) {
    if (errno == ENOENT) return Status::NotFound(dir_or_file + ": allow-list does not exist");
    return Status::IoError(dir_or_file + ": cannot stat: " + OsError(errno));
  }
  std::vector<std::string> keys;
  auto add = [&keys](const std::string& key) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  };
  if (S_ISDIR(info.st_mode)) {
    DIR* folder = ::opendir(dir_or_file.c_str());
    if (folder == nullptr) return Status::IoError(dir_or_file + ": cannot list: " + OsError(errno));
    std::vector<std::string> files;
    while (const dirent* entry = ::readdir(folder)) {
      const std::string file = entry->d_name;
      if (EndsWith(file, ".pub")) files.push_back(file);
    }
    ::closedir(folder);
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      Result<std::string> key = ReadSingleKey(dir_or_file + "/" + file);
      if (!key.ok()) return key.status();
      add(*key);
    }
  } else {
    Result<std::string> text = ReadWholeFile(dir_or_file);
    if (!text.ok()) return text.status();
    for (const auto& [line, key] : KeyLines(*text)) {
      REFLEX_RETURN_IF_ERROR(CheckZ85Key(key, dir_or_file + ":" + std::to_string(line)));
      add(key);
    }
  }
  if (keys.empty()) {
    return Status::InvalidArgument(dir_or_file + ": allow-list holds no public keys (" +
                                   (S_ISDIR(info.st_mode) ? "no *.pub files" : "no key lines") + ")");
  }
  return keys;
}

Status SecureServerSocket(zmq::context_t& context, zmq::socket_t& socket, const std::optional<CurveServerConfig>& curve,
                          const std::vector<std::string>& allowed_clients, std::unique_ptr<ZapAuthenticator>* zap,
                          const std::string& who) {
  if (!curve) return Status::Ok();
  if (!allowed_clients.empty()) {
    auto started = ZapAuthenticator::Start(context, allowed_clients);
    if (!started.ok()) return started.status().WithContext(who + ": CURVE allow-list");
    *zap = std::move(started.value());
  }
  return ApplyCurveServer(socket, curve->server).WithContext(who + ": CURVE setup");
}

Status ApplyCurveServer(zmq::socket_t& socket, const CurveKeyPair& server) {
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(server.public_key, "CURVE server public key"));
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(server.secret_key, "CURVE server secret key"));
  try {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_publickey, server.public_key);
    socket.set(zmq::sockopt::curve_secretkey, server.secret_key);
  } catch (const zmq::error_t& error) {
    return Status::Internal(std::string("setting CURVE server options: ") + error.what());
  }
  return Status::Ok();
}

Status ApplyCurveClient(zmq::socket_t& socket, const CurveKeyPair& client,
                        const std::string& server_public) {
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(server_public, "CURVE server public key"));
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(client.public_key, "CURVE client public key"));
  REFLEX_RETURN_IF_ERROR(CheckZ85Key(client.secret_key, "CURVE client secret key"));
  try {
    socket.set(zmq::sockopt::curve_serverkey, server_public);
    socket.set(zmq::sockopt::curve_publickey, client.public_key);
    socket.set(zmq::sockopt::curve_secretkey, client.secret_key);
  } catch (const zmq::error_t& error) {
    return Status::Internal(std::string("setting CURVE client options: ") + error.what());
  }
  return Status::Ok();
}

}  // namespace reflex::transport

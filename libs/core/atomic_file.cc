#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace reflex {

const char kTemporaryFileSuffix[] = ".tmp";

namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int error) {
  return Status::IoError(what + " " + path + ": " + std::strerror(error));
}

std::string ParentFolder(const std::string& path) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

Status WriteAndSync(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path, errno);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return ErrnoStatus("cannot write", path, error);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus("cannot fsync", path, error);
  }
  if (::close(fd) != 0) return ErrnoStatus("cannot close", path, errno);
  return Status::Ok();
}

Status SyncFolder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open folder", folder, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync folder", folder, error);
  return Status::Ok();
}

}  // namespace

bool IsTemporaryFileName(const std::string& file_name) {
  const size_t suffix = std::strlen(kTemporaryFileSuffix);
  return file_name.size() >= suffix &&
         file_name.compare(file_name.size() - suffix, suffix, kTemporaryFileSuffix) == 0;
}

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + kTemporaryFileSuffix;
  Status status = WriteAndSync(temporary, bytes);
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot rename " + temporary + " to", path, errno);
  }
  if (!status.ok()) {
    ::unlink(temporary.c_str());
    return status;
  }
  return SyncFolder(ParentFolder(path));
}

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return Status::NotFound("no file " + path);
    return ErrnoStatus("cannot open", path, error);
  }
  std::string contents;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return ErrnoStatus("cannot read", path, error);
    }
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

}  // namespace reflex

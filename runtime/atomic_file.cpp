#include "atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {

std::FILE* create_temp(const std::string& path, std::string& temp) {
  std::vector<char> name(path.begin(), path.end());
  const char suffix[] = ".tmp-XXXXXX";
  name.insert(name.end(), suffix, suffix + sizeof(suffix));  // includes the terminator
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw InputError(fmt::format("{}: cannot create the output file: {}", path, std::strerror(errno)));
  temp = name.data();
  ::fchmod(fd, 0644);  // mkstemp makes 0600; a model file is for reading
  std::FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw InputError(fmt::format("{}: cannot open the output file: {}", path, std::strerror(errno)));
  }
  return f;
}

}  // namespace

AtomicOutputFile::AtomicOutputFile(std::string path)
    : path_(std::move(path)), f_(create_temp(path_, temp_)), sink_(f_, path_) {}

AtomicOutputFile::~AtomicOutputFile() {
  if (f_) {
    std::fclose(f_);
    ::unlink(temp_.c_str());
  }
}

void AtomicOutputFile::commit() {
  std::FILE* f = f_;
  f_ = nullptr;
  const bool ok = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    ::unlink(temp_.c_str());
    throw InputError(fmt::format("{}: write failed: {}", path_, std::strerror(ok ? errno : err)));
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp_.c_str());
    throw InputError(fmt::format("{}: cannot rename {} to it: {}", path_, temp_, std::strerror(e)));
  }
}

}  // namespace vkq

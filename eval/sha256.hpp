// SHA-256 (OpenSSL's libcrypto) as lowercase hex: eval-set manifests, the
// scorecard's content-hash caches (converted and quantized models, reference
// top-k) and the run metadata name files by it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace vkq::eval {

// Incremental hashing (for files streamed in chunks).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // finishes; the object cannot be updated after

 private:
  void* ctx_;  // EVP_MD_CTX
};

std::string sha256_hex(std::string_view bytes);
std::string sha256_hex(std::span<const uint8_t> bytes);
// The file's hash; InputError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace vkq::eval

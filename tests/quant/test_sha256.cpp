// SHA-256 against the FIPS 180-4 / NIST example vectors.
#include <string>

#include <catch2/catch_test_macros.hpp>

#include "sha256.hpp"

using vkq::quant::Sha256;
using vkq::quant::sha256_hex;

TEST_CASE("sha256: NIST vectors", "[quant][sha256]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: updates in any chunking give the same digest", "[quant][sha256]") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += char('a' + i * 7 % 26);
  const std::string want = sha256_hex(text);
  for (const size_t chunk : {1, 3, 63, 64, 65, 127, 500}) {
    Sha256 h;
    for (size_t off = 0; off < text.size(); off += chunk) h.update(text.data() + off, std::min(chunk, text.size() - off));
    CHECK(h.hex_digest() == want);
  }
}

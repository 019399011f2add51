#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "support/gpu.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::test::run_cli;

TEST_CASE("vkq devices lists the devices", "[cli]") {
  const auto r = run_cli("devices");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, ContainsSubstring("subgrp"));
  const auto j = run_cli("devices --json");
  REQUIRE(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["schema"] == "vkq.devices/1");
  REQUIRE(!doc["devices"].empty());
  const auto& d = doc["devices"][0];
  for (const char* k : {"name", "vendor", "device_uuid", "driver_version", "subgroup", "fp16", "int_dot",
                        "int_dot_4x8_accelerated", "cooperative_matrix", "max_shared_memory", "max_storage_buffer_range",
                        "max_memory_allocation_size", "heaps"})
    CHECK(d.contains(k));
  CHECK_THAT(r.out, ContainsSubstring(d["name"].get<std::string>().substr(0, 10)));
}

TEST_CASE("vkq devices applies VKQ_DEVICE_PROFILE", "[cli]") {
  const auto j = run_cli("devices --json --device 0", "VKQ_DEVICE_PROFILE=no-fp16,shared-mem=16K");
  REQUIRE(j.exit_code == 0);
  const auto d = nlohmann::json::parse(j.out)["devices"][0];
  CHECK(d["fp16"] == false);
  CHECK(d["max_shared_memory"].get<uint32_t>() <= 16384u);
  CHECK(d["profile"] == "no-fp16,shared-mem=16K");
}

TEST_CASE("bad device and profile are usage errors (exit 2)", "[cli]") {
  const auto r = run_cli("devices --device no-such-device");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, ContainsSubstring("no-such-device"));
  CHECK_THAT(r.err, ContainsSubstring("devices: 0:"));
  const auto p = run_cli("devices", "VKQ_DEVICE_PROFILE=no-fp16,warp-speed");
  CHECK(p.exit_code == 2);
  CHECK_THAT(p.err, ContainsSubstring("warp-speed"));
  CHECK(run_cli("devices --no-such-flag").exit_code == 2);
  CHECK(run_cli("").exit_code == 2);
}

TEST_CASE("no loader or no device is a device failure (exit 3) with a hint", "[cli]") {
  const auto r = run_cli("devices", "VKQ_VULKAN_LIBRARY=/nonexistent/libvulkan.so.1");
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, ContainsSubstring("mesa-vulkan-drivers"));
  const auto n = run_cli("devices --device 0", "VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json");
  CHECK(n.exit_code == 3);
  CHECK_THAT(n.err, ContainsSubstring("no Vulkan device"));
}

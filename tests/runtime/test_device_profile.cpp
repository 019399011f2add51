#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "device_profile.hpp"
#include "error.hpp"

using namespace vkq;
using Catch::Matchers::ContainsSubstring;

namespace {
DeviceCaps full_caps() {
  DeviceCaps c;
  c.name = "test";
  c.subgroup_basic = c.subgroup_arith = c.subgroup_in_compute = true;
  c.fp16 = c.int8 = c.storage8 = c.storage16 = c.int_dot = c.int_dot_4x8_accel = c.coopmat = true;
  c.coopmat_shapes.push_back({16, 16, 16, "f16", "f16", "f32", "f32", "subgroup"});
  c.max_shared_memory = 49152;
  c.max_workgroup_invocations = 1024;
  c.max_workgroup_size = {1024, 1024, 64};
  c.max_storage_buffer_range = 0xffffffffull;
  c.max_memory_allocation_size = 1ull << 36;
  c.subgroup_size = 32;
  c.min_subgroup_size = 16;
  c.max_subgroup_size = 64;
  c.subgroup_size_control = true;
  c.memory_budget_ext = true;
  c.int64 = c.int64_atomics = true;
  return c;
}
}  // namespace

TEST_CASE("sizes parse with suffixes", "[profile]") {
  CHECK(parse_size("16384", "x") == 16384);
  CHECK(parse_size("32K", "x") == 32768);
  CHECK(parse_size("128MiB", "x") == 128ull << 20);
  CHECK(parse_size("1g", "x") == 1ull << 30);
  CHECK_THROWS_AS(parse_size("", "x"), InputError);
  CHECK_THROWS_AS(parse_size("12Q", "x"), InputError);
  CHECK_THROWS_AS(parse_size("K", "x"), InputError);
  CHECK_THROWS_AS(parse_size("99999999999999999999", "x"), InputError);
}

TEST_CASE("single tokens mask one feature each", "[profile]") {
  const auto c = full_caps();
  CHECK_FALSE(apply_device_profile(c, parse_device_profile("no-subgroup-arith")).subgroup_arith);
  CHECK(apply_device_profile(c, parse_device_profile("no-subgroup-arith")).subgroup_basic);
  CHECK_FALSE(apply_device_profile(c, parse_device_profile("no-fp16")).fp16);
  CHECK_FALSE(apply_device_profile(c, parse_device_profile("no-int8-storage")).storage8);
  CHECK_FALSE(apply_device_profile(c, parse_device_profile("no-int-dot")).int_dot);
  CHECK_FALSE(apply_device_profile(c, parse_device_profile("no-int64-atomics")).int64_atomics);
  CHECK(apply_device_profile(c, parse_device_profile("no-int64-atomics")).int64);
  CHECK_FALSE(apply_device_profile(c, parse_device_profile("no-extensions")).int64_atomics);
  const auto nc = apply_device_profile(c, parse_device_profile("no-coopmat"));
  CHECK_FALSE(nc.coopmat);
  CHECK(nc.coopmat_shapes.empty());
  CHECK(apply_device_profile(c, parse_device_profile("shared-mem=16384")).max_shared_memory == 16384);
  // Limits only go down.
  CHECK(apply_device_profile(c, parse_device_profile("shared-mem=1M")).max_shared_memory == 49152);
  CHECK(apply_device_profile(c, parse_device_profile("max-buffer-range=128M")).max_storage_buffer_range == 128ull << 20);
  const auto sg = apply_device_profile(c, parse_device_profile("subgroup-size=16"));
  CHECK(sg.forced_subgroup_size == 16);
  CHECK(sg.subgroup_size == 16);
  CHECK(apply_device_profile(c, parse_device_profile("no-fp16")).profile == "no-fp16");
}

TEST_CASE("presets bundle device-class limits", "[profile]") {
  const auto c = full_caps();
  const auto a = apply_device_profile(c, parse_device_profile("adreno-like"));
  CHECK_FALSE(a.storage8);
  CHECK(a.max_shared_memory == 32768);
  CHECK(a.max_storage_buffer_range == 128ull << 20);
  CHECK(a.max_memory_allocation_size == 1ull << 30);
  const auto m = apply_device_profile(c, parse_device_profile("mali-like"));
  CHECK_FALSE(m.subgroup_arith);
  CHECK(m.max_shared_memory == 32768);
  const auto r = apply_device_profile(c, parse_device_profile("rpi5-like"));
  CHECK(r.max_workgroup_invocations == 256);
  CHECK(r.max_workgroup_size[0] == 256);
  CHECK_FALSE(r.fp16);
  CHECK(r.max_shared_memory == 16384);
  const auto n = apply_device_profile(c, parse_device_profile("no-extensions"));
  CHECK_FALSE(n.fp16);
  CHECK_FALSE(n.storage8);
  CHECK_FALSE(n.storage16);
  CHECK_FALSE(n.int_dot);
  CHECK_FALSE(n.coopmat);
  CHECK_FALSE(n.subgroup_arith);
  CHECK_FALSE(n.memory_budget_ext);
  CHECK(device_profile_presets().size() >= 4);
  // Presets combine with tokens; the tighter limit wins.
  CHECK(apply_device_profile(c, parse_device_profile("adreno-like, shared-mem=8K")).max_shared_memory == 8192);
}

TEST_CASE("bad profile tokens are refused by name", "[profile]") {
  CHECK_THROWS_WITH(parse_device_profile("no-fp16,no-such-thing"), ContainsSubstring("no-such-thing"));
  CHECK_THROWS_AS(parse_device_profile("shared-mem"), InputError);
  CHECK_THROWS_AS(parse_device_profile("no-fp16=1"), InputError);
  CHECK_THROWS_AS(parse_device_profile("subgroup-size=12"), InputError);
  auto c = full_caps();
  CHECK_THROWS_AS(apply_device_profile(c, parse_device_profile("subgroup-size=128")), InputError);
  c.subgroup_size_control = false;
  CHECK_THROWS_AS(apply_device_profile(c, parse_device_profile("subgroup-size=16")), InputError);
  CHECK(parse_device_profile("").empty());
}

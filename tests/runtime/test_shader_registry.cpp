#include <catch2/catch_test_macros.hpp>

#include "error.hpp"
#include "shader_registry.hpp"
#include "variant_select.hpp"

using namespace vkq;

TEST_CASE("every embedded variant is SPIR-V with known features", "[registry]") {
  ShaderRegistry reg;
  REQUIRE(reg.all().size() >= 5);
  for (const auto& v : reg.all()) {
    INFO(v.name);
    REQUIRE(v.spirv.size() > 5);
    CHECK(v.spirv[0] == 0x07230203u);  // SPIR-V magic
    CHECK(!v.source.empty());
    CHECK((v.env == "vulkan1.2" || v.env == "vulkan1.3"));
  }
  CHECK_THROWS_AS(reg.get("no_such_variant"), InputError);
}

TEST_CASE("extension probes are built and validated", "[registry]") {
  ShaderRegistry reg;
  CHECK(reg.get("probe_int_dot").features == std::vector<std::string>{"int_dot"});
  CHECK(reg.get("probe_coopmat").env == "vulkan1.3");
}

TEST_CASE("selection takes the first runnable variant in table order", "[registry]") {
  ShaderRegistry reg;
  const auto variants = op_variants(reg, "reduce_sum");
  REQUIRE(variants == std::vector<std::string>{"reduce_sum_subgroup", "reduce_sum_shared"});
  DeviceCaps c;
  c.name = "t";
  c.api_version = VK_API_VERSION_1_3;
  c.subgroup_basic = c.subgroup_arith = true;
  CHECK(reg.select(variants, c).name == "reduce_sum_subgroup");
  c.subgroup_arith = false;
  CHECK(reg.select(variants, c).name == "reduce_sum_shared");
  CHECK(ShaderRegistry::missing_features(reg.get("reduce_sum_subgroup"), c) == "subgroup_arith");
  CHECK_THROWS_AS(reg.select({"reduce_sum_subgroup"}, c), DeviceError);
}

TEST_CASE("bindings are read from SPIR-V", "[registry]") {
  ShaderRegistry reg;
  CHECK(spirv_storage_bindings(reg.get("elementwise_add").spirv) == std::vector<uint32_t>{0, 1, 2});
  CHECK(spirv_storage_bindings(reg.get("reduce_sum_shared").spirv) == std::vector<uint32_t>{0, 1});
}

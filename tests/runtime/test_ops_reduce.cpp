#include <cmath>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "ops/reduce.hpp"
#include "support/gpu.hpp"
#include "variant_select.hpp"

using namespace vkq;

TEST_CASE("row sums match the CPU reference in every runnable variant", "[gpu][kernel]") {
  auto& dev = test::device();
  const auto variants = op_variants(dev.shaders(), "reduce_sum");
  // Each variant the (profiled) device can run is forced in turn; the
  // shared-memory tree runs everywhere, so at least one does.
  std::vector<std::string> runnable;
  for (const auto& v : variants)
    if (ShaderRegistry::missing_features(dev.shaders().get(v), dev.caps()).empty()) runnable.push_back(v);
  REQUIRE(!runnable.empty());
  CHECK(runnable.back() == "reduce_sum_shared");

  struct Shape { uint32_t rows, cols; };
  const auto shape = GENERATE(Shape{1, 1}, Shape{1, 1000}, Shape{7, 33}, Shape{33, 4096}, Shape{3, 14336},
                              Shape{70001, 3});  // more rows than one grid dimension holds
  for (const auto& name : runnable) {
    ops::ReduceSumRows op(dev, name);
    INFO("variant " << name << " wg " << op.workgroup_size() << " shape " << shape.rows << "x" << shape.cols);
    const auto in = test::random_floats(size_t(shape.rows) * shape.cols);
    std::vector<float> ref(shape.rows), out(shape.rows);
    ops::reduce_sum_rows_ref(in, shape.rows, shape.cols, ref);
    Buffer bin(dev, in.size() * 4), bout(dev, shape.rows * 4ull);
    bin.upload(std::span<const float>(in));
    bout.fill(test::kPoison);
    CommandStream cs(dev);
    op.record(cs, bin, bout, shape.rows, shape.cols);
    cs.submit_and_wait();
    bout.download(std::span<float>(out));
    // fp32 accumulation of cols values in [-1, 1]: error grows like
    // sqrt(cols) * eps * |values|; allow 1e-5 * cols absolute.
    const double tol = 1e-5 * shape.cols + 1e-6;
    for (uint32_t r = 0; r < shape.rows; ++r) {
      REQUIRE(!std::isnan(out[r]));
      REQUIRE(std::abs(double(out[r]) - double(ref[r])) <= tol);
    }
  }
}

TEST_CASE("the default variant follows the device's subgroup arithmetic", "[gpu][kernel]") {
  auto& dev = test::device();
  const auto v = select_variant(dev, "reduce_sum");
  CHECK(v == (dev.caps().subgroup_arith ? "reduce_sum_subgroup" : "reduce_sum_shared"));
}

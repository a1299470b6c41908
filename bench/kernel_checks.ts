/**
 * The test files that check the engine's kernels: every GPU result against a float64 CPU
 * reference (test/reference/) or PyTorch fixtures, every backward pass by finite differences,
 * and the fused perturbed evaluation and Δk against float64 and the materialised path. What
 * `deno task bench:gpu` runs on a real GPU, where the products take the workgroup-tiled core
 * instead of the register core lavapipe gets.
 * @module
 */

/** Paths relative to the repository root. */
export const KERNEL_CHECKS: readonly string[] = [
  "test/gemm_test.ts",
  "test/dense_test.ts",
  "test/conv2d_test.ts",
  "test/batchnorm_test.ts",
  "test/pool_test.ts",
  "test/relu_test.ts",
  "test/dropout_test.ts",
  "test/elementwise_test.ts",
  "test/reduce_test.ts",
  "test/scan_test.ts",
  "test/random_test.ts",
  "test/loss_test.ts",
  "test/adam_test.ts",
  "test/loss_matrix_test.ts",
  "test/delta_test.ts",
];

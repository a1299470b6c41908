/**
 * Workgroup counts past maxComputeWorkgroupsPerDimension (65,535 on most adapters) are folded
 * into two dimensions; kernels rebuild the linear id with `workgroup_index`
 * (shaders/invocation.wgsl) and ignore ids at or past the count they were asked for.
 * @module
 */

/** Splits `count` workgroups into [x, y, 1] with x, y <= maxPerDimension. */
export function foldWorkgroups(count: number, maxPerDimension: number): [number, number, number] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`workgroup count must be a non-negative integer, got ${count}`);
  }
  if (count <= maxPerDimension) return [count, 1, 1];
  const y = Math.ceil(count / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RangeError(
      `${count} workgroups exceed maxComputeWorkgroupsPerDimension squared ` +
        `(${maxPerDimension}^2); split the work into several dispatches`,
    );
  }
  return [Math.ceil(count / y), y, 1];
}

/** Ceiling division, for workgroup counts. */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * Inclusive prefix sums along rows (`shaders/scan.wgsl`), for any row length.
 * @module
 */
import { uniformStruct } from "../gpu/uniforms.ts";
import { wgsl } from "../gpu/shader.ts";
import { ceilDiv } from "../gpu/workgroups.ts";
import { Tensor } from "../tensor.ts";
import { invocationShader } from "../gpu/invocation.ts";
import source from "../../shaders/scan.wgsl" with { type: "text" };

const shader = wgsl("shaders/scan.wgsl", source, invocationShader);
const UNIFORMS = uniformStruct("Params", { n: "u32", rows: "u32", blocks: "u32" });
const WG = 128;
const ITEMS = 16;
/** Workgroup size and values per invocation of each scan block (sets rounding depth). */
export const SCAN_LAYOUT = { workgroupSize: WG, items: ITEMS } as const;
const BLOCK = WG * ITEMS;

function scanInto(x: Tensor, out: Tensor, rows: number, n: number): void {
  const gpu = x.gpu;
  const blocks = ceilDiv(n, BLOCK);
  const sums = Tensor.empty(gpu, [rows, blocks]);
  const p = UNIFORMS.write({ n, rows, blocks });
  const constants = { WG, ITEMS };
  gpu.dispatch({
    kernel: { shader, entryPoint: "blocks", constants },
    bindings: [x, out, sums],
    params: p,
    workgroups: rows * blocks,
  });
  if (blocks > 1) {
    const scannedSums = Tensor.empty(gpu, [rows, blocks]);
    scanInto(sums, scannedSums, rows, blocks);
    gpu.dispatch({
      kernel: { shader, entryPoint: "offsets", constants },
      bindings: [scannedSums, out],
      params: p,
      workgroups: rows * blocks,
    });
    scannedSums.dispose();
  }
  sums.dispose();
}

/**
 * Inclusive prefix sums of `x` viewed as [rows, size / rows]: out[r, i] = sum of x[r, 0..i].
 * Returns a new tensor of x's shape.
 */
export function cumsum(x: Tensor, rows = 1): Tensor {
  const n = rows === 0 ? 0 : x.size / rows;
  if (!Number.isInteger(n)) {
    throw new RangeError(`${x.size} elements do not split into ${rows} rows`);
  }
  const out = Tensor.empty(x.gpu, x.shape);
  if (n > 0) scanInto(x, out, rows, n);
  return out;
}

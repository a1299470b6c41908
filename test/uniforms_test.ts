import assert from "node:assert/strict";
import { UniformLayoutError } from "../src/gpu/pipeline_cache.ts";
import { wgsl } from "../src/gpu/shader.ts";
import { declaredUniforms, uniformStruct, UniformValueError } from "../src/gpu/uniforms.ts";
import { Tensor } from "../src/tensor.ts";
import { gpuTest } from "./helpers.ts";

const SCALED_COPY = `
struct Params {
  n: u32,
  scale: f32, // a comment, with a comma
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < p.n) {
    dst[id.x] = src[id.x] * p.scale;
  }
}
`;
const shader = wgsl("test/kernels/scaled_copy.wgsl", SCALED_COPY);

Deno.test("uniform structs are written by name, in declaration order, padded to 16 bytes", () => {
  const struct = uniformStruct("Params", { a: "u32", b: "f32", c: "i32", d: "u32", e: "u32" });
  const { bytes } = struct.write({ e: 9, d: 7, c: -1, b: 0.5, a: 3 });
  assert.equal(bytes.byteLength, 32);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), 3);
  assert.equal(view.getFloat32(4, true), 0.5);
  assert.equal(view.getInt32(8, true), -1);
  assert.equal(view.getUint32(12, true), 7);
  assert.equal(view.getUint32(16, true), 9);
  assert.equal(uniformStruct("One", { n: "u32" }).write({ n: 1 }).bytes.byteLength, 16);
});

Deno.test("a value that does not fit, a missing field or an unknown one is named", () => {
  const struct = uniformStruct("Params", { n: "u32", scale: "f32" });
  assert.throws(() => struct.write({ n: -1, scale: 1 }), /uniform Params\.n = -1 is not a u32/);
  assert.throws(() => struct.write({ n: 1.5, scale: 1 }), /Params\.n = 1\.5 is not a u32/);
  assert.throws(
    () => struct.write({ n: 1 } as unknown as { n: number; scale: number }),
    (e) => e instanceof UniformValueError && /Params\.scale is missing/.test(e.message),
  );
  assert.throws(
    () => struct.write({ n: 1, scale: 1, extra: 2 } as { n: number; scale: number }),
    /Params\.extra is not a field \(fields: n, scale\)/,
  );
  assert.throws(() => struct.extend("Wider", { n: "u32" }), /Wider\.n is declared twice/);
});

Deno.test("declared uniforms are read from the WGSL, comments aside", () => {
  const declared = declaredUniforms(SCALED_COPY).get(0);
  assert.ok(typeof declared === "object");
  assert.deepEqual(declared.fields, [{ name: "n", type: "u32" }, { name: "scale", type: "f32" }]);
});

gpuTest("fields in the WGSL order run the kernel", async (gpu) => {
  const struct = uniformStruct("Params", { n: "u32", scale: "f32" });
  const src = Tensor.from(gpu, [1, 2, 3]);
  const dst = Tensor.zeros(gpu, [3]);
  gpu.dispatch({
    kernel: { shader, entryPoint: "main" },
    bindings: [src, dst],
    params: struct.write({ scale: 2, n: 3 }),
    workgroups: 1,
  });
  assert.deepEqual([...await dst.read()], [2, 4, 6]);
});

gpuTest("a wrong field order fails at the launch, naming the shader and the field", (gpu) => {
  const swapped = uniformStruct("Params", { scale: "f32", n: "u32" });
  const src = Tensor.zeros(gpu, [3]), dst = Tensor.zeros(gpu, [3]);
  assert.throws(
    () =>
      gpu.dispatch({
        kernel: { shader, entryPoint: "main" },
        bindings: [src, dst],
        params: swapped.write({ n: 3, scale: 2 }),
        workgroups: 1,
      }),
    (e) =>
      e instanceof UniformLayoutError &&
      e.message.startsWith(
        "test/kernels/scaled_copy.wgsl: uniform at @binding(0): field 1 of Params is n: u32, " +
          "but the host writes scale: f32 there",
      ),
  );
});

gpuTest("a missing field, an extra field or a wrong type fails likewise", (gpu) => {
  const src = Tensor.zeros(gpu, [3]), dst = Tensor.zeros(gpu, [3]);
  const launch = (params: ReturnType<ReturnType<typeof uniformStruct>["write"]>, binding = 0) =>
    gpu.dispatch({
      kernel: { shader, entryPoint: "main" },
      bindings: binding === 0 ? [src, dst] : [src, dst, params],
      params: binding === 0 ? params : undefined,
      workgroups: 1,
    });
  const short = uniformStruct("Params", { n: "u32" });
  assert.throws(() => launch(short.write({ n: 3 })), /field 2 of Params is scale: f32, which/);
  const long = uniformStruct("Params", { n: "u32", scale: "f32", more: "u32" });
  assert.throws(
    () => launch(long.write({ n: 3, scale: 1, more: 0 })),
    /writes more: u32 as field 3 of Params, but Params has 2 fields/,
  );
  const typed = uniformStruct("Params", { n: "u32", scale: "u32" });
  assert.throws(() => launch(typed.write({ n: 3, scale: 1 })), /host writes scale: u32 there/);
  assert.throws(
    () => launch(short.write({ n: 3 }), 3),
    /scaled_copy\.wgsl: uniform at @binding\(3\): declares no uniform at @binding\(3\)/,
  );
});

gpuTest("a struct declared in a dependency is named by that file", (gpu) => {
  const lib = wgsl("test/kernels/params_lib.wgsl", "struct Shared {\n  n: u32,\n}\n");
  const user = wgsl(
    "test/kernels/params_user.wgsl",
    `@group(0) @binding(0) var<uniform> p: Shared;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(1)
fn main() { dst[0] = f32(p.n); }
`,
    lib,
  );
  const dst = Tensor.zeros(gpu, [1]);
  assert.throws(
    () =>
      gpu.dispatch({
        kernel: { shader: user, entryPoint: "main" },
        bindings: [dst],
        params: uniformStruct("Shared", { count: "u32" }).write({ count: 1 }),
        workgroups: 1,
      }),
    /test\/kernels\/params_lib\.wgsl: uniform at @binding\(0\): field 1 of Shared is n: u32/,
  );
});

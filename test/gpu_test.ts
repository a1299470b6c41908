import assert from "node:assert/strict";
import { sizeClass } from "../src/gpu/buffer_pool.ts";
import { Gpu, GpuError } from "../src/gpu/gpu.ts";
import { assemble, locate, ShaderCompileError, wgsl } from "../src/gpu/shader.ts";
import { GpuTimer } from "../src/gpu/timer.ts";
import { foldWorkgroups } from "../src/gpu/workgroups.ts";
import { scale, unary } from "../src/ops/elementwise.ts";
import { philoxShader } from "../src/ops/random.ts";
import { Tensor } from "../src/tensor.ts";
import { gpuTest } from "./helpers.ts";
import brokenSource from "./kernels/broken.wgsl" with { type: "text" };
import copySource from "./kernels/copy.wgsl" with { type: "text" };

async function rejects(f: () => unknown, pattern: RegExp): Promise<Error> {
  try {
    await f();
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return e as Error;
  }
  throw new Error(`expected an error matching ${pattern}`);
}

gpuTest("a broken shader throws an Error naming its file and line", async (gpu) => {
  const shader = wgsl("test/kernels/broken.wgsl", brokenSource, philoxShader);
  gpu.dispatch({ kernel: { shader, entryPoint: "main" }, bindings: [], workgroups: 1 });
  const e = await rejects(() => gpu.flush(), /test\/kernels\/broken\.wgsl:6:/);
  assert.ok(e instanceof ShaderCompileError);
  assert.equal(e.line, 6);
  // Later uses fail at once with the same message instead of a vague invalid-pipeline error.
  await rejects(
    () => gpu.dispatch({ kernel: { shader, entryPoint: "main" }, bindings: [], workgroups: 1 }),
    /broken\.wgsl:6:.*u32/,
  );
  await gpu.flush(); // the stream stays usable
});

gpuTest("validation errors of recorded work are thrown by flush as GpuError", async (gpu) => {
  const shader = wgsl("test/kernels/copy.wgsl", copySource);
  const x = Tensor.zeros(gpu, [16]);
  // One buffer bound as read-only and as writable storage in one dispatch is invalid.
  gpu.dispatch({ kernel: { shader, entryPoint: "main" }, bindings: [x, x], workgroups: 1 });
  const e = await rejects(() => gpu.flush(), /validation error/);
  assert.ok(e instanceof GpuError);
  // The next submission works again.
  const y = Tensor.empty(gpu, [16]);
  gpu.dispatch({ kernel: { shader, entryPoint: "main" }, bindings: [x, y], workgroups: 1 });
  assert.deepEqual([...await y.read()], new Array(16).fill(0));
  x.dispose();
  y.dispose();
});

Deno.test({
  name: "bindings above maxStorageBufferBindingSize and tensors above maxBufferSize are rejected",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const small = await Gpu.create({
      limits: { maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 1 << 22 },
    });
    const ok = Tensor.zeros(small, [(1 << 20) / 4]);
    scale(ok, 2).dispose();
    const big = Tensor.zeros(small, [(1 << 20) / 4 + 1]);
    await rejects(() => scale(big, 2), /maxStorageBufferBindingSize of 1048576/);
    await rejects(() => Tensor.empty(small, [(1 << 22) / 4 + 1]), /maxBufferSize of 4194304/);
    await small.flush();
    small.destroy();
  },
});

gpuTest("uploads are ordered after work recorded before them", async (gpu) => {
  const x = Tensor.from(gpu, [1, 2, 3]);
  const y = scale(x, 10); // recorded, not yet run
  gpu.write(x, new Float32Array([7, 8, 9]));
  const z = scale(x, 10);
  assert.deepEqual([...await y.read()], [10, 20, 30]);
  assert.deepEqual([...await z.read()], [70, 80, 90]);
  for (const t of [x, y, z]) t.dispose();
});

gpuTest("disposed buffers are reused; live tensors never share storage", async (gpu) => {
  const a = Tensor.from(gpu, new Float32Array(1000).fill(1));
  const b = unary(a, "square");
  const buffer = b.buffer;
  b.dispose();
  const c = unary(a, "affine", 3, 0);
  assert.equal(c.buffer, buffer);
  const d = unary(a, "affine", 5, 0);
  assert.notEqual(d.buffer, c.buffer);
  assert.equal((await c.read())[999], 3);
  assert.equal((await d.read())[999], 5);
  for (const t of [a, c, d]) t.dispose();
});

gpuTest("GPU timestamps measure recorded spans when the adapter has them", async (gpu) => {
  if (!gpu.hasTimestamps) {
    await rejects(() => new GpuTimer(gpu), /timestamp-query/);
    return;
  }
  const timer = new GpuTimer(gpu);
  const x = Tensor.from(gpu, new Float32Array(1 << 18).fill(1));
  const span = timer.begin("scale x20");
  for (let i = 0; i < 20; i++) scale(x, 2).dispose();
  timer.end(span);
  const [t] = await timer.results();
  assert.equal(t.label, "scale x20");
  assert.ok(t.ms > 0 && Number.isFinite(t.ms), `span took ${t.ms} ms`);
  x.dispose();
  timer.destroy();
});

Deno.test("workgroup counts past the per-dimension limit fold into two dimensions", () => {
  assert.deepEqual(foldWorkgroups(10, 65535), [10, 1, 1]);
  const [x, y] = foldWorkgroups(200_000, 65535);
  assert.ok(x <= 65535 && y <= 65535 && x * y >= 200_000);
  assert.throws(() => foldWorkgroups(65536 * 65536, 65535), /split the work/);
});

Deno.test("assembled shaders map lines back to their files", () => {
  const a = wgsl("a.wgsl", "fn a() {}\nfn b() {}\n");
  const b = wgsl("b.wgsl", "// b\nfn c() {}\n", a);
  const c = wgsl("c.wgsl", "fn d() {}\n", b, a);
  const asm = assemble(c);
  assert.equal(asm.code, "fn a() {}\nfn b() {}\n// b\nfn c() {}\nfn d() {}\n");
  assert.deepEqual(locate(asm, 4), { file: "b.wgsl", line: 2, text: "fn c() {}" });
  assert.deepEqual(locate(asm, 5), { file: "c.wgsl", line: 1, text: "fn d() {}" });
});

Deno.test("buffer sizes round up to size classes", () => {
  assert.equal(sizeClass(1000), 1024);
  assert.ok(sizeClass(5_000_000) >= 5_000_000 && sizeClass(5_000_000) < 1.25 * 5_000_000);
});

Deno.test("without a usable XDG_RUNTIME_DIR, processes share one runtime folder", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "xdg test " });
  const gpuModule = new URL("../src/gpu/gpu.ts", import.meta.url).href;
  const createTwice = async () => {
    const code = `import { Gpu } from ${JSON.stringify(gpuModule)};\n` +
      "for (let i = 0; i < 2; i++) (await Gpu.create()).destroy();";
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      env: { XDG_RUNTIME_DIR: `${tmp}/missing`, TMPDIR: tmp },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, err);
    assert.doesNotMatch(err, /XDG_RUNTIME_DIR is invalid/);
  };
  const folders = async () =>
    (await Array.fromAsync(Deno.readDir(tmp))).map((e) => e.name)
      .filter((n) => n.startsWith("landscape-xdg-")).sort();
  try {
    await createTwice();
    await createTwice();
    const shared = `landscape-xdg-${Deno.uid()}`;
    assert.deepEqual(await folders(), [shared]);
    // When that name is taken by something else, a private folder is used and removed at exit.
    await Deno.remove(`${tmp}/${shared}`);
    await Deno.writeTextFile(`${tmp}/${shared}`, "not a folder");
    await createTwice();
    assert.deepEqual(await folders(), [shared]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * PyTorch state dicts (fixtures from test/fixtures/torch_state.py): read with a model spec, in
 * every float dtype and under a module name; and the tool's checkpoints in the layout PyTorch's
 * load_state_dict takes (checked by PyTorch itself where python3-torch is installed).
 */
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import type { Dataset } from "../src/data/dataset.ts";
import { parseModelSpec } from "../src/nn/model_spec.ts";
import { checkpointBytes, loadCheckpoint } from "../src/train/checkpoint.ts";
import { decodeSafetensors } from "../src/train/safetensors.ts";
import { sampleLosses } from "../src/train/sample_losses.ts";
import { hasTorch, missingMessage, TEST_TOOLS, TORCH_PYTHON } from "../src/test_tools.ts";
import { gpuTest } from "./helpers.ts";

const DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));
const SPEC_FILE = `${DIR}torch_state.spec.json`;
const fixture = JSON.parse(await Deno.readTextFile(`${DIR}torch_state.json`)) as {
  x: number[];
  labels: number[];
  losses: number[];
  logits: number[];
};
const expected = {
  config: parseModelSpec(await Deno.readTextFile(SPEC_FILE), SPEC_FILE),
  file: SPEC_FILE,
};
const samples: Dataset = {
  name: "torch fixture",
  shape: [1, 8, 8],
  classes: 10,
  images: Float32Array.from(fixture.x),
  labels: Uint8Array.from(fixture.labels),
};

/** The tool's per-sample losses under the state dict `file`. */
async function losses(
  gpu: Parameters<typeof loadCheckpoint>[0],
  file: string,
  keyMap?: Record<string, string>,
) {
  const { model } = await loadCheckpoint(gpu, `${DIR}${file}`, { expected, keyMap });
  try {
    return (await sampleLosses(model, samples)).losses;
  } finally {
    model.dispose();
  }
}

function assertRelative(got: ArrayLike<number>, want: number[], tolerance: number, what: string) {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.abs(want[i]);
    assert.ok(err <= tolerance, `${what}: sample ${i}: ${got[i]} vs PyTorch's ${want[i]} (${err})`);
  }
}

gpuTest(
  "a PyTorch state dict (conv + batch norm + dense) gives PyTorch's per-sample losses",
  async (gpu) => {
    assertRelative(await losses(gpu, "torch_state.safetensors"), fixture.losses, 1e-5, "F32");
    assertRelative(await losses(gpu, "torch_state.f64.safetensors"), fixture.losses, 1e-5, "F64");
    // Half precision rounds the weights: the losses move by about its resolution.
    assertRelative(await losses(gpu, "torch_state.f16.safetensors"), fixture.losses, 1e-2, "F16");
    assertRelative(await losses(gpu, "torch_state.bf16.safetensors"), fixture.losses, 5e-2, "BF16");
  },
);

Deno.test("half-precision state dicts convert to float32 exactly", async () => {
  const f32 = decodeSafetensors("f32", await Deno.readFile(`${DIR}torch_state.safetensors`));
  for (const [suffix, resolution] of [["f16", 2 ** -11], ["bf16", 2 ** -8]] as const) {
    const file = `${DIR}torch_state.${suffix}.safetensors`;
    const half = decodeSafetensors(file, await Deno.readFile(file));
    for (const [key, t] of Object.entries(half.tensors)) {
      assert.equal(t.dtype, key.endsWith("num_batches_tracked") ? "I64" : suffix.toUpperCase());
      t.data.forEach((v, i) => {
        const want = f32.tensors[key].data[i];
        assert.ok(
          Math.abs(v - want) <= resolution * Math.abs(want) + 1e-7,
          `${key}[${i}]: ${v} vs ${want}`,
        );
      });
    }
  }
  assert.equal(
    f32.tensors["1.num_batches_tracked"].data[0],
    3,
    "the I64 counter reads as its value",
  );
});

gpuTest("a state dict under a module name needs a key map, and reads with one", async (gpu) => {
  await assert.rejects(
    () => losses(gpu, "torch_state_named.safetensors"),
    /torch_state_named\.safetensors: missing tensor 0\.weight; the file's keys are named like net\.0\.weight: pass --key-prefix net\. or --key-map FILE/,
  );
  assertRelative(
    await losses(gpu, "torch_state_named.safetensors", { "net.": "" }),
    fixture.losses,
    1e-5,
    "named",
  );
  await assert.rejects(
    () => losses(gpu, "torch_state_named.safetensors", { "net.": "", "net.0.weight": "0.bias" }),
    /the key map sends both/,
  );
});

gpuTest("a state dict without --model-spec is refused naming the option", async (gpu) => {
  await assert.rejects(
    () => loadCheckpoint(gpu, `${DIR}torch_state.safetensors`),
    /torch_state\.safetensors: no model config in the metadata .* pass --model-spec FILE/,
  );
});

gpuTest(
  "the tool's checkpoint has exactly the state dict's keys, dtypes and shapes",
  async (gpu) => {
    const { model } = await loadCheckpoint(gpu, `${DIR}torch_state.safetensors`, { expected });
    const written = decodeSafetensors("written", await checkpointBytes(model));
    model.dispose();
    const torch = decodeSafetensors("torch", await Deno.readFile(`${DIR}torch_state.safetensors`));
    const layout = (d: typeof torch) =>
      Object.entries(d.tensors).map(([k, t]) => `${k} ${t.dtype} [${t.shape}]`).sort();
    assert.deepEqual(layout(written), layout(torch));
    for (const [key, t] of Object.entries(torch.tensors)) {
      if (!key.endsWith("num_batches_tracked")) {
        assert.deepEqual(
          written.tensors[key].data,
          t.data,
          key,
        );
      }
    }
  },
);

gpuTest(
  "PyTorch's load_state_dict (strict) takes the tool's checkpoint and gives identical logits",
  async (gpu) => {
    // The test task's preflight installs python3-torch; without it this fails, never skips.
    assert.ok(hasTorch(), missingMessage(TEST_TOOLS[1]));
    const dir = await Deno.makeTempDir();
    try {
      const { model } = await loadCheckpoint(gpu, `${DIR}torch_state.safetensors`, { expected });
      await Deno.writeFile(`${dir}/tool.safetensors`, await checkpointBytes(model, { seed: "0" }));
      model.dispose();
      const out = new Deno.Command(TORCH_PYTHON, {
        args: [
          `${DIR}torch_state.py`,
          "check",
          `${dir}/tool.safetensors`,
          `${DIR}torch_state.safetensors`,
        ],
      }).outputSync();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, text);
      assert.equal(JSON.parse(text).max_abs_diff, 0, text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

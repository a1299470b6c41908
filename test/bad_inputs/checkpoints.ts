/** Bad checkpoints given to `delta`: each is refused by name before anything is computed. */
import type { BadInput } from "./case.ts";
import { encodeSafetensors, type NamedTensor } from "../../src/train/safetensors.ts";
import { CHECKPOINT_FORMAT } from "../../src/train/checkpoint.ts";
import { mlp } from "../../src/nn/model_config.ts";

/** A valid checkpoint's tensors and metadata for `--data synthetic` (8 x 8 images). */
function parts(): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  const config = mlp({ inputShape: [1, 8, 8], hidden: 4, layers: 1 });
  const t = (...shape: number[]) => ({
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01),
  });
  return {
    tensors: { "1.weight": t(4, 64), "1.bias": t(4), "3.weight": t(10, 4), "3.bias": t(10) },
    metadata: { config: JSON.stringify(config), format: CHECKPOINT_FORMAT },
  };
}

const FILE = "{dir}/model.safetensors";

/** A `delta` case on a checkpoint whose bytes `make` returns. */
function checkpointCase(name: string, make: () => Uint8Array, error: RegExp): BadInput {
  return {
    name,
    prepare: (dir) => Deno.writeFile(FILE.replace("{dir}", dir), make()),
    args: ["delta", "--checkpoint", FILE, "--data", "synthetic", "--out", "{dir}/out"],
    error,
    code: 1,
    gpu: true,
  };
}

/** Rewrites the JSON header of safetensors bytes (keeping its length padded with spaces). */
function editHeader(bytes: Uint8Array, edit: (h: Record<string, unknown>) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(header);
  const text = new TextEncoder().encode(JSON.stringify(header).padEnd(n));
  if (text.length !== n) throw new Error("the edited header must not grow");
  const out = bytes.slice();
  out.set(text, 8);
  return out;
}

export const checkpointCases: BadInput[] = [
  checkpointCase(
    "checkpoint metadata whose config is not JSON",
    () => {
      const p = parts();
      return encodeSafetensors(p.tensors, { ...p.metadata, config: "{garbage" });
    },
    /model\.safetensors: __metadata__\.config is not JSON/,
  ),
  checkpointCase(
    "checkpoint tensors whose byte ranges overlap",
    () => {
      const p = parts();
      return editHeader(encodeSafetensors(p.tensors, p.metadata), (h) => {
        // 1.bias (16 bytes) moved into 1.weight's bytes; the rest keeps its offsets.
        h["1.bias"] = { dtype: "F32", shape: [4], data_offsets: [0, 16] };
      });
    },
    /model\.safetensors: .* overlaps .*'s/,
  ),
  checkpointCase(
    "a checkpoint with a tensor the model does not have",
    () => {
      const p = parts();
      const extra = { shape: [2], data: new Float32Array(2) };
      return encodeSafetensors({ ...p.tensors, "7.weight": extra }, p.metadata);
    },
    /model\.safetensors: tensor 7\.weight not in the model "mlp"/,
  ),
  checkpointCase(
    "a checkpoint of an unknown format",
    () => {
      const p = parts();
      return encodeSafetensors(p.tensors, { ...p.metadata, format: "landscape-7" });
    },
    /model\.safetensors: __metadata__\.format is "landscape-7"; this version reads "landscape-1"/,
  ),
  checkpointCase(
    "a checkpoint with a NaN weight",
    () => {
      const p = parts();
      p.tensors["3.weight"].data[5] = NaN;
      return encodeSafetensors(p.tensors, p.metadata);
    },
    /model\.safetensors: 3\.weight holds NaN at index 5/,
  ),
  checkpointCase(
    "a checkpoint whose header length is 2^60",
    () => {
      const bytes = new Uint8Array(64);
      new DataView(bytes.buffer).setBigUint64(0, 2n ** 60n, true);
      return bytes;
    },
    /model\.safetensors: header length 1152921504606846976 exceeds the file \(64 bytes\)/,
  ),
];

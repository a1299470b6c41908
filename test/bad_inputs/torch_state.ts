/** Bad PyTorch state dicts and key maps given to `losses`: each is refused by name. */
import { fileURLToPath } from "node:url";
import type { BadInput } from "./case.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
const SPEC = `${FIXTURES}torch_state.spec.json`;

/** A `losses` case on a state dict (prepared in the case folder as `my model.safetensors`). */
function stateCase(
  name: string,
  make: () => Promise<Uint8Array>,
  args: string[],
  error: RegExp,
  code = 1,
): BadInput {
  return {
    name,
    prepare: async (dir) => await Deno.writeFile(`${dir}/my model.safetensors`, await make()),
    args: [
      "losses",
      "--checkpoint",
      "{dir}/my model.safetensors",
      "--data",
      "synthetic",
      ...args,
      "--out",
      "{dir}/out",
    ],
    error,
    code,
    gpu: true,
  };
}

const fixture = (name: string) => () => Deno.readFile(`${FIXTURES}${name}`);

/** The F32 fixture with its first tensor's dtype renamed (same width, so the layout holds). */
async function withDtype(dtype: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(`${FIXTURES}torch_state.safetensors`);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n)).replace('"F32"', `"${dtype}"`);
  const out = bytes.slice();
  out.set(new TextEncoder().encode(header), 8);
  return out;
}

export const torchStateCases: BadInput[] = [
  stateCase(
    "a PyTorch state dict without --model-spec",
    fixture("torch_state.safetensors"),
    [],
    /my model\.safetensors: no model config in the metadata .*pass --model-spec FILE/,
  ),
  stateCase(
    "a state dict under a module name without a key map",
    fixture("torch_state_named.safetensors"),
    ["--model-spec", SPEC],
    /missing tensor 0\.weight; the file's keys are named like net\.0\.weight: pass --key-prefix net\./,
  ),
  stateCase(
    "a state dict tensor of an unsupported dtype",
    () => withDtype("I32"),
    ["--model-spec", SPEC],
    /my model\.safetensors: 0\.weight: dtype I32 is not supported; save F32, F64, F16 or BF16/,
  ),
  stateCase(
    "--key-map and --key-prefix together",
    fixture("torch_state_named.safetensors"),
    ["--model-spec", SPEC, "--key-prefix", "net.", "--key-map", "{dir}/map.json"],
    /--key-map and --key-prefix are alternatives/,
    2,
  ),
  {
    ...stateCase(
      "a key map that is not an object of names",
      fixture("torch_state_named.safetensors"),
      ["--model-spec", SPEC, "--key-map", "{dir}/my map.json"],
      /my map\.json: key map entry "net\." must map to a string, got 0/,
    ),
    prepare: async (dir) => {
      await Deno.writeFile(
        `${dir}/my model.safetensors`,
        await fixture("torch_state_named.safetensors")(),
      );
      await Deno.writeTextFile(`${dir}/my map.json`, '{"net.": 0}');
    },
  },
];

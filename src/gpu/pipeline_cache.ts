/**
 * Compiled shader modules and compute pipelines, cached by shader file, entry point and
 * override constants. Compilation is checked asynchronously; the first WGSL error found is
 * kept and rethrown, naming its file and line, by every later use of that shader.
 * @module
 */
import {
  assemble,
  compileError,
  type ShaderCompileError,
  shaderKey,
  type ShaderSource,
} from "./shader.ts";

/** A compute entry point of a shader with values for its `override` constants. */
export interface Kernel {
  /** The WGSL source (with its dependencies). */
  readonly shader: ShaderSource;
  /** Name of the `@compute` function. */
  readonly entryPoint: string;
  /** Values of the shader's `override` declarations. */
  readonly constants?: Readonly<Record<string, number>>;
}

interface ModuleEntry {
  module: GPUShaderModule;
  error: ShaderCompileError | null;
  checked: Promise<void>;
}

/** Caches shader modules and pipelines for one device. */
export class PipelineCache {
  #modules = new Map<string, ModuleEntry>();
  #pipelines = new Map<string, GPUComputePipeline>();
  #unchecked: ModuleEntry[] = [];

  /** A cache for `device`. */
  constructor(private readonly device: GPUDevice) {}

  #module(shader: ShaderSource): { entry: ModuleEntry; key: string } {
    const key = shaderKey(shader);
    let entry = this.#modules.get(key);
    if (entry) {
      if (entry.error) throw entry.error;
      return { entry, key };
    }
    const assembled = assemble(shader);
    const module = this.device.createShaderModule({ code: assembled.code, label: key });
    const created: ModuleEntry = { module, error: null, checked: Promise.resolve() };
    created.checked = module.getCompilationInfo().then((info) => {
      created.error = compileError(assembled, info);
    });
    this.#unchecked.push(created);
    this.#modules.set(key, entry = created);
    return { entry, key };
  }

  /** The pipeline for a kernel, created on first use (layout inferred from the shader). */
  get(kernel: Kernel): GPUComputePipeline {
    const constants = kernel.constants ?? {};
    const { entry, key: moduleKey } = this.#module(kernel.shader);
    const key = `${moduleKey}|${kernel.entryPoint}|` +
      Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`).join(",");
    const cached = this.#pipelines.get(key);
    if (cached) return cached;
    const pipeline = this.device.createComputePipeline({
      label: `${kernel.shader.file}:${kernel.entryPoint}`,
      layout: "auto",
      compute: { module: entry.module, entryPoint: kernel.entryPoint, constants: { ...constants } },
    });
    this.#pipelines.set(key, pipeline);
    return pipeline;
  }

  /** Waits for pending compilations and throws the first WGSL error among them. */
  async check(): Promise<void> {
    const pending = this.#unchecked;
    this.#unchecked = [];
    await Promise.all(pending.map((entry) => entry.checked));
    for (const entry of pending) if (entry.error) throw entry.error;
  }
}

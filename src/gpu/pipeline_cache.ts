/**
 * Compiled shader modules and compute pipelines, cached by shader file, entry point and
 * override constants. Compilation is checked asynchronously; the first WGSL error found is
 * kept and rethrown, naming its file and line, by every later use of that shader.
 * @module
 */
import {
  assemble,
  type AssembledShader,
  compileError,
  locate,
  type ShaderCompileError,
  shaderKey,
  type ShaderSource,
} from "./shader.ts";
import { declaredUniforms, uniformMismatch, type UniformStruct } from "./uniforms.ts";

/** Thrown when a host uniform description disagrees with the WGSL struct it is bound to. */
export class UniformLayoutError extends Error {
  /** A mismatch at `binding` of the struct declared in `file`, explained by `detail`. */
  constructor(
    /** The WGSL file that declares the struct (or the shader, when none is declared). */
    readonly file: string,
    /** The binding number of the uniform. */
    readonly binding: number,
    /** What disagrees, naming the field. */
    readonly detail: string,
  ) {
    super(
      `${file}: uniform at @binding(${binding}): ${detail}; describe the host struct's fields ` +
        `in the order, with the names and types, that the WGSL struct declares`,
    );
    this.name = "UniformLayoutError";
  }
}

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
  assembled: AssembledShader;
  /** Host descriptions already checked against this module, by binding. */
  agreed: Map<number, Set<UniformStruct>>;
  error: ShaderCompileError | null;
  checked: Promise<void>;
}

/** Caches shader modules and pipelines for one device. */
export class PipelineCache {
  #modules = new Map<string, ModuleEntry>();
  /** Each shader's key, computed once: every dispatch looks its module up, some several times. */
  #keys = new WeakMap<ShaderSource, string>();
  #pipelines = new Map<string, GPUComputePipeline>();
  #unchecked: ModuleEntry[] = [];

  /** A cache for `device`. */
  constructor(private readonly device: GPUDevice) {}

  #module(shader: ShaderSource): { entry: ModuleEntry; key: string } {
    let key = this.#keys.get(shader);
    if (key === undefined) this.#keys.set(shader, key = shaderKey(shader));
    let entry = this.#modules.get(key);
    if (entry) {
      if (entry.error) throw entry.error;
      return { entry, key };
    }
    const assembled = assemble(shader);
    const module = this.device.createShaderModule({ code: assembled.code, label: key });
    const created: ModuleEntry = {
      module,
      assembled,
      agreed: new Map(),
      error: null,
      checked: Promise.resolve(),
    };
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

  /**
   * Checks that `struct` describes the uniform struct `shader` declares at `binding` (once per
   * shader, binding and description); throws a {@link UniformLayoutError} naming the field.
   */
  checkUniform(shader: ShaderSource, binding: number, struct: UniformStruct): void {
    const { entry } = this.#module(shader);
    let agreed = entry.agreed.get(binding);
    if (agreed?.has(struct)) return;
    const declared = declaredUniforms(entry.assembled.code).get(binding);
    const mismatch = uniformMismatch(struct, declared, binding);
    if (mismatch) {
      const file = typeof declared === "object"
        ? locate(entry.assembled, declared.line).file
        : shader.file;
      throw new UniformLayoutError(file, binding, mismatch);
    }
    if (!agreed) entry.agreed.set(binding, agreed = new Set());
    agreed.add(struct);
  }

  /** Waits for pending compilations and throws the first WGSL error among them. */
  async check(): Promise<void> {
    const pending = this.#unchecked;
    this.#unchecked = [];
    await Promise.all(pending.map((entry) => entry.checked));
    for (const entry of pending) if (entry.error) throw entry.error;
  }
}

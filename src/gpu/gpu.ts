/**
 * The device, and the one command stream every kernel records into.
 *
 * Kernels are recorded, not run: `dispatch`, `copy` and `write` append to an open command
 * encoder, and `flush` submits everything recorded so far in one submission. Nothing waits for
 * the GPU except `read` (one batched readback) and `sync`. Every validation error raised while
 * recording or submitting is captured and thrown by the next `flush`, WGSL compile errors
 * naming the shader file and line.
 * @module
 */
import { describeAdapter, findAdapter, NO_ADAPTER_MESSAGE } from "./adapter.ts";
import { BufferPool } from "./buffer_pool.ts";
import { DisposedError } from "./disposed.ts";
import { Uniforms } from "./uniforms.ts";
import { type Kernel, PipelineCache } from "./pipeline_cache.ts";
import { foldWorkgroups } from "./workgroups.ts";

/** A byte range of a GPU buffer, as kernels bind it. Tensors are views. */
export interface GpuBufferView {
  /** The buffer holding the range. */
  readonly buffer: GPUBuffer;
  /** Start of the range in bytes (a multiple of minStorageBufferOffsetAlignment to bind). */
  readonly byteOffset: number;
  /** Length of the range in bytes. */
  readonly byteLength: number;
}

/** Limits the engine checks before recording; requested from the adapter at their maximum. */
export const ENGINE_LIMITS: readonly [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxUniformBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxBindGroups",
  "maxTextureDimension2D",
] = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxUniformBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxBindGroups",
  "maxTextureDimension2D",
] as const;

/** Name of a limit in {@link ENGINE_LIMITS}. */
export type EngineLimit = typeof ENGINE_LIMITS[number];

/** Options for {@link Gpu.create}. */
export interface GpuOptions {
  /** Print the adapter and its main limits (default false). */
  verbose?: boolean;
  /** Where verbose lines go (default: stderr). */
  log?: (line: string) => void;
  /** Which adapter to prefer when there are several (default high-performance). */
  powerPreference?: GPUPowerPreference;
  /**
   * Caps below the adapter's limits, enforced by the engine (e.g. to test limit handling);
   * default none: the adapter's maxima.
   */
  limits?: Partial<Record<EngineLimit, number>>;
}

/** Thrown when the system has no WebGPU adapter; the message says how to fix it. */
export class NoAdapterError extends Error {
  /** The error with the one-line fix as its message. */
  constructor() {
    super(NO_ADAPTER_MESSAGE);
    this.name = "NoAdapterError";
  }
}

/** Thrown by `flush` for validation or out-of-memory errors of recorded work. */
export class GpuError extends Error {
  /** An error with the given message. */
  constructor(message: string) {
    super(message);
    this.name = "GpuError";
  }
}

/** One kernel launch. */
export interface Dispatch {
  /** What to run. */
  kernel: Kernel;
  /**
   * Bound at @binding(1), @binding(2), ... of @group(0): views as storage buffers, Uniforms as
   * uniforms, texture views as textures; null leaves a binding number unused.
   */
  bindings: readonly (GpuBufferView | Uniforms | GPUTextureView | null)[];
  /** The kernel's parameter struct, bound as a uniform at @binding(0). */
  params?: Uniforms;
  /** A linear workgroup count (folded past the per-dimension limit), or explicit x, y, z. */
  workgroups: number | readonly [number, number?, number?];
}

const PARAM_CHUNK = 64 * 1024;

/** A texture holding a copy of a buffer view (see {@link Gpu.textureCopy}). */
export interface TextureCopy {
  /** The view to bind. */
  readonly view: GPUTextureView;
  /** Call after recording the last kernel that reads it: it is reused after that submission. */
  release(): void;
}

interface ParamChunk {
  buffer: GPUBuffer;
  bytes: Uint8Array<ArrayBuffer>;
}

/** A WebGPU device with the engine's caches and command stream (`using` destroys it). */
export class Gpu implements Disposable {
  /** Description of the adapter in use. */
  readonly adapter: string;
  /** The limits the engine enforces (adapter maxima, or lower caps from options). */
  readonly limits: Readonly<Record<EngineLimit, number>>;
  /** Whether GPU timestamps can be taken. */
  readonly hasTimestamps: boolean;
  /** Whether WGSL `f16` is available. */
  readonly hasF16: boolean;
  /** A software adapter (lavapipe, SwiftShader): device buffers take host memory. */
  readonly software: boolean;
  /** Reusable storage for tensors and readbacks. */
  readonly pool: BufferPool;
  /** Compiled shaders and pipelines. */
  readonly pipelines: PipelineCache;

  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #scopeOpen = false;
  #commands = 0;
  #uploads: GPUBuffer[] = [];
  /** Texture copies released since the last submit, and those free for reuse, by size. */
  #released: GPUTexture[] = [];
  #freeTextures = new Map<string, GPUTexture[]>();
  #chunks: ParamChunk[] = [];
  #chunkIndex = 0;
  #chunkCursor = 0;
  #uncaptured: GPUError[] = [];
  #lost: GPUDeviceLostInfo | null = null;
  #destroyed = false;

  private constructor(
    /** The underlying WebGPU device. */
    readonly device: GPUDevice,
    adapter: GPUAdapter,
    limits: Record<EngineLimit, number>,
  ) {
    this.adapter = describeAdapter(adapter);
    this.limits = limits;
    this.hasTimestamps = device.features.has("timestamp-query");
    this.hasF16 = device.features.has("shader-f16");
    this.software = adapter.info.isFallbackAdapter;
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    device.addEventListener("uncapturederror", (event) => {
      this.#uncaptured.push((event as GPUUncapturedErrorEvent).error);
    });
    device.lost.then((info) => {
      if (!this.#destroyed) this.#lost = info;
    });
  }

  /**
   * Acquires an adapter and a device with the adapter's own limits (the defaults are lower).
   * @param options Logging, adapter preference and limit caps (default: none of them).
   */
  static async create(options?: GpuOptions): Promise<Gpu> {
    options ??= {};
    const adapter = await findAdapter(options.powerPreference);
    if (!adapter) throw new NoAdapterError();
    const requiredLimits: Record<string, number> = {};
    const limits = {} as Record<EngineLimit, number>;
    for (const name of ENGINE_LIMITS) {
      const offered = adapter.limits[name] as number;
      requiredLimits[name] = offered;
      limits[name] = Math.min(offered, options.limits?.[name] ?? Infinity);
    }
    // Alignments are "better" when smaller: take the adapter's.
    for (const name of ["minStorageBufferOffsetAlignment", "minUniformBufferOffsetAlignment"]) {
      requiredLimits[name] = adapter.limits[name as keyof GPUSupportedLimits] as number;
    }
    const requiredFeatures = (["timestamp-query", "shader-f16"] as GPUFeatureName[])
      .filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    const gpu = new Gpu(device, adapter, limits);
    if (options.verbose) {
      const log = options.log ?? ((line: string) => console.error(line));
      log(`WebGPU adapter: ${gpu.adapter}`);
      log(
        `  max storage binding ${limits.maxStorageBufferBindingSize} B, workgroup storage ` +
          `${limits.maxComputeWorkgroupStorageSize} B, ${limits.maxComputeInvocationsPerWorkgroup}` +
          ` invocations/workgroup, features: ${requiredFeatures.join(", ") || "none"}`,
      );
    }
    return gpu;
  }

  #destroyedError(): DisposedError {
    return new DisposedError(
      `Gpu (${this.adapter})`,
      "destroy()",
      "create another with Gpu.create()",
    );
  }

  #check(): void {
    if (this.#destroyed) throw this.#destroyedError();
  }

  #open(): GPUCommandEncoder {
    this.#check();
    if (this.#lost) throw new GpuError(`GPU device lost: ${this.#lost.message}`);
    if (!this.#scopeOpen) {
      this.device.pushErrorScope("out-of-memory");
      this.device.pushErrorScope("validation");
      this.#scopeOpen = true;
    }
    return this.#encoder ??= this.device.createCommandEncoder();
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /** Rejects a view the device cannot bind as one storage buffer. */
  #checkBinding(view: GpuBufferView, index: number, kernel: Kernel): void {
    const limit = this.limits.maxStorageBufferBindingSize;
    if (view.byteLength > limit) {
      throw new RangeError(
        `${kernel.shader.file}:${kernel.entryPoint}: binding ${index + 1} is ${view.byteLength} ` +
          `bytes, above this device's maxStorageBufferBindingSize of ${limit} bytes; ` +
          `split the tensor into smaller parts`,
      );
    }
    if (view.byteOffset % this.device.limits.minStorageBufferOffsetAlignment !== 0) {
      throw new RangeError(
        `binding ${index + 1} starts at byte ${view.byteOffset}, not a multiple of ` +
          `minStorageBufferOffsetAlignment (${this.device.limits.minStorageBufferOffsetAlignment})`,
      );
    }
  }

  /** Copies a kernel's parameters into this submission's uniform arena. */
  #placeParams(bytes: Uint8Array): GPUBufferBinding {
    const align = this.device.limits.minUniformBufferOffsetAlignment;
    if (bytes.byteLength > PARAM_CHUNK) throw new RangeError("kernel parameters exceed 64 KiB");
    let offset = Math.ceil(this.#chunkCursor / align) * align;
    if (offset + bytes.byteLength > PARAM_CHUNK) {
      this.#chunkIndex++;
      offset = 0;
    }
    let chunk = this.#chunks[this.#chunkIndex];
    if (!chunk) {
      chunk = {
        buffer: this.device.createBuffer({
          size: PARAM_CHUNK,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
          label: "kernel parameters",
        }),
        bytes: new Uint8Array(PARAM_CHUNK),
      };
      this.#chunks.push(chunk);
    }
    chunk.bytes.set(bytes, offset);
    this.#chunkCursor = offset + bytes.byteLength;
    return { buffer: chunk.buffer, offset, size: bytes.byteLength };
  }

  /** Records one kernel launch. Throws at once for bindings past the device's limits. */
  dispatch(d: Dispatch): void {
    this.#check();
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = typeof d.workgroups === "number"
      ? foldWorkgroups(d.workgroups, max)
      : d.workgroups;
    if (x > max || y > max || z > max) {
      throw new RangeError(
        `${d.kernel.shader.file}:${d.kernel.entryPoint}: ${x}x${y}x${z} workgroups exceed ` +
          `maxComputeWorkgroupsPerDimension (${max})`,
      );
    }
    d.bindings.forEach((b, i) => {
      if (b instanceof Uniforms) this.pipelines.checkUniform(d.kernel.shader, i + 1, b.struct);
      else if (b && !(b instanceof GPUTextureView)) this.#checkBinding(b, i, d.kernel);
    });
    if (d.params) this.pipelines.checkUniform(d.kernel.shader, 0, d.params.struct);
    if (x * y * z === 0) return;
    this.#open();
    const pipeline = this.pipelines.get(d.kernel);
    const entries: GPUBindGroupEntry[] = [];
    const bind = (binding: number, b: GpuBufferView | Uniforms | GPUTextureView) => {
      const resource = b instanceof Uniforms
        ? this.#placeParams(b.bytes)
        : b instanceof GPUTextureView
        ? b
        : { buffer: b.buffer, offset: b.byteOffset, size: Math.max(4, b.byteLength) };
      entries.push({ binding, resource });
    };
    if (d.params) bind(0, d.params);
    d.bindings.forEach((b, i) => b && bind(i + 1, b));
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    const pass = this.#pass ??= this.#encoder!.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.#count();
  }

  /** Records a copy of `src` into `dst` (equal lengths, multiples of 4 bytes). */
  copy(src: GpuBufferView, dst: GpuBufferView): void {
    if (src.byteLength !== dst.byteLength) {
      throw new RangeError(`copy of ${src.byteLength} bytes into ${dst.byteLength} bytes`);
    }
    if (src.byteLength === 0) return;
    const encoder = this.#open();
    this.#endPass();
    encoder.copyBufferToBuffer(
      src.buffer,
      src.byteOffset,
      dst.buffer,
      dst.byteOffset,
      src.byteLength,
    );
    this.#count();
  }

  /**
   * Records copying a view of vec4s (offset and length multiples of 16 bytes) into a new
   * rgba32float texture `width` texels wide, row after row: vec4 i at texel (i % width,
   * i / width). `width` is a multiple of 16 within maxTextureDimension2D, and the rows fit it.
   */
  textureCopy(src: GpuBufferView, width: number): TextureCopy {
    const texels = src.byteLength / 16;
    const rows = Math.max(1, Math.ceil(texels / width));
    const max = this.limits.maxTextureDimension2D;
    if (!Number.isInteger(texels) || src.byteOffset % 16 !== 0) {
      throw new RangeError(
        `textureCopy needs whole vec4s at a 16-byte offset, got ${src.byteLength} bytes at ` +
          `${src.byteOffset}`,
      );
    }
    if (width % 16 !== 0) {
      throw new RangeError(`textureCopy needs a width that is a multiple of 16, got ${width}`);
    }
    if (width > max || rows > max) {
      throw new RangeError(
        `textureCopy: ${width} x ${rows} texels exceed maxTextureDimension2D (${max})`,
      );
    }
    this.#check();
    // Reused, not made anew: a fresh texture costs ten times the copy on lavapipe (first
    // touch of its memory). Queue order puts this copy after every read of earlier uses.
    const texture = this.#freeTextures.get(`${width}x${rows}`)?.pop() ??
      this.device.createTexture({
        size: [width, rows],
        format: "rgba32float",
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
        label: "texture copy",
      });
    const encoder = this.#open();
    this.#endPass();
    const full = Math.floor(texels / width), rest = texels - full * width;
    const layout = { buffer: src.buffer, bytesPerRow: width * 16 };
    if (full > 0) {
      encoder.copyBufferToTexture({ ...layout, offset: src.byteOffset }, { texture }, [
        width,
        full,
      ]);
    }
    if (rest > 0) {
      encoder.copyBufferToTexture(
        { ...layout, offset: src.byteOffset + full * width * 16 },
        { texture, origin: [0, full] },
        [rest, 1],
      );
    }
    this.#count();
    let released = false;
    return {
      view: texture.createView(),
      release: () => {
        if (!released) this.#released.push(texture);
        released = true;
      },
    };
  }

  /** Records zeroing a view (offset and length multiples of 4). */
  clear(view: GpuBufferView): void {
    if (view.byteLength === 0) return;
    const encoder = this.#open();
    this.#endPass();
    encoder.clearBuffer(view.buffer, view.byteOffset, Math.ceil(view.byteLength / 4) * 4);
    this.#count();
  }

  /** Records an upload of `data` into `dst`, ordered after everything recorded before it. */
  write(dst: GpuBufferView, data: ArrayBufferView): void {
    if (data.byteLength !== dst.byteLength) {
      throw new RangeError(`write of ${data.byteLength} bytes into a ${dst.byteLength}-byte view`);
    }
    this.#check();
    if (data.byteLength === 0) return;
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    if (!this.#encoder) {
      // Nothing recorded yet, so the queue's own ordering is already right.
      this.device.queue.writeBuffer(dst.buffer, dst.byteOffset, bytes);
      return;
    }
    const staging = this.device.createBuffer({
      size: bytes.byteLength,
      usage: GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
      label: "upload staging",
    });
    new Uint8Array(staging.getMappedRange()).set(bytes);
    staging.unmap();
    this.#uploads.push(staging);
    this.copy({ buffer: staging, byteOffset: 0, byteLength: bytes.byteLength }, dst);
  }

  /** Records a GPU timestamp into `querySet` at `index` (needs `hasTimestamps`). */
  timestamp(querySet: GPUQuerySet, index: number): void {
    this.#open();
    this.#endPass();
    this.#encoder!.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: index },
    }).end();
    this.#count();
  }

  /** Records resolving the first `count` queries of `querySet` into `dst`, from byte 0. */
  resolveQueries(querySet: GPUQuerySet, count: number, dst: GPUBuffer): void {
    const encoder = this.#open();
    this.#endPass();
    encoder.resolveQuerySet(querySet, 0, count, dst, 0);
    this.#count();
  }

  /** Long recordings are submitted in parts so the encoder does not grow without bound. */
  #count(): void {
    if (++this.#commands >= 4096) this.#submit();
  }

  #submit(): void {
    if (!this.#encoder) return;
    this.#endPass();
    for (let i = 0; i <= this.#chunkIndex && i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i];
      const used = i < this.#chunkIndex ? PARAM_CHUNK : this.#chunkCursor;
      if (used > 0) this.device.queue.writeBuffer(chunk.buffer, 0, chunk.bytes, 0, used);
    }
    this.device.queue.submit([this.#encoder.finish()]);
    for (const b of this.#uploads) b.destroy();
    this.#uploads = [];
    for (const t of this.#released) {
      const key = `${t.width}x${t.height}`;
      const free = this.#freeTextures.get(key);
      if (free) free.push(t);
      else this.#freeTextures.set(key, [t]);
    }
    this.#released = [];
    this.#encoder = null;
    this.#commands = 0;
    this.#chunkIndex = 0;
    this.#chunkCursor = 0;
  }

  /**
   * Submits all recorded work without waiting for it, then throws the first error it raised:
   * a WGSL compile error (file and line), a validation or an out-of-memory error.
   */
  async flush(): Promise<void> {
    this.#check();
    this.#submit();
    if (!this.#scopeOpen) return this.#throwUncaptured();
    this.#scopeOpen = false;
    const validation = this.device.popErrorScope();
    const memory = this.device.popErrorScope();
    await this.pipelines.check();
    const error = (await validation) ?? (await memory);
    if (error) {
      const kind = error instanceof GPUOutOfMemoryError ? "out of GPU memory" : "validation error";
      throw new GpuError(`WebGPU ${kind}: ${error.message.trim()}`);
    }
    this.#throwUncaptured();
  }

  #throwUncaptured(): void {
    const error = this.#uncaptured.shift();
    if (error) throw new GpuError(`WebGPU error: ${error.message.trim()}`);
    if (this.#lost) throw new GpuError(`GPU device lost: ${this.#lost.message}`);
  }

  /** Submits recorded work and waits until the GPU has finished it. */
  async sync(): Promise<void> {
    await this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Reads several views back with one copy submission and one map: the only way data leaves. */
  async read(views: readonly GpuBufferView[]): Promise<ArrayBuffer[]> {
    this.#check();
    const offsets: number[] = [];
    let total = 0;
    for (const v of views) {
      offsets.push(total);
      total += Math.ceil(v.byteLength / 4) * 4;
    }
    const usage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    const staging = this.pool.acquire(Math.max(total, 4), usage, "readback");
    try {
      views.forEach((v, i) =>
        this.copy(v, { buffer: staging, byteOffset: offsets[i], byteLength: v.byteLength })
      );
      await this.flush();
      await staging.mapAsync(GPUMapMode.READ, 0, Math.max(total, 4));
      const mapped = staging.getMappedRange(0, Math.max(total, 4));
      const out = views.map((v, i) => mapped.slice(offsets[i], offsets[i] + v.byteLength));
      staging.unmap();
      return out;
    } finally {
      this.pool.release(staging);
    }
  }

  /** Releases the device and everything it holds; any later use throws a DisposedError. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.pool.close(() => this.#destroyedError());
    for (const c of this.#chunks) c.buffer.destroy();
    this.device.destroy();
  }

  /** Destroys the device at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.destroy();
  }
}

/**
 * Tensors: a shape and a range of GPU storage. Creating, filling and computing only record
 * commands; data comes back to the CPU only through an explicit `read` (batched with
 * {@link readTensors}).
 * @module
 */
import { DisposedError } from "./gpu/disposed.ts";
import type { Gpu, GpuBufferView } from "./gpu/gpu.ts";

/** Element types a tensor can hold (4 bytes each). */
export type DType = "f32" | "u32" | "i32";

/** The typed array that holds a tensor's elements on the CPU. */
export type HostArray<D extends DType> = D extends "f32" ? Float32Array<ArrayBuffer>
  : D extends "u32" ? Uint32Array<ArrayBuffer>
  : Int32Array<ArrayBuffer>;

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Number of elements of a shape; throws for negative or fractional extents. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`bad tensor shape [${shape}]`);
    n *= d;
  }
  return n;
}

function arrayOf(dtype: DType) {
  return dtype === "f32" ? Float32Array : dtype === "u32" ? Uint32Array : Int32Array;
}

function hostArray<D extends DType>(dtype: D, buffer: ArrayBuffer): HostArray<D> {
  return new (arrayOf(dtype))(buffer) as HostArray<D>;
}

/** A buffer shared by a tensor and its views; disposing the tensor retires it for all. */
interface Storage {
  readonly buffer: GPUBuffer;
  released: boolean;
}

/**
 * A dense row-major tensor stored in a GPU buffer. `dispose` (or leaving a `using` block) gives
 * the storage back; every later use of the tensor or of a view of it throws a DisposedError.
 */
export class Tensor<D extends DType = "f32"> implements GpuBufferView, Disposable {
  /** Number of elements. */
  readonly size: number;
  #disposed = false;
  readonly #storage: Storage;
  readonly #owner: boolean;

  private constructor(
    /** The device holding the storage. */
    readonly gpu: Gpu,
    /** Extents, outermost first. */
    readonly shape: readonly number[],
    /** Element type. */
    readonly dtype: D,
    storage: Storage,
    /** Where the elements start in the buffer. */
    readonly byteOffset: number,
    owner: boolean,
  ) {
    this.size = shapeSize(shape);
    this.#storage = storage;
    this.#owner = owner;
  }

  /** The GPU buffer (shared by views); throws once this tensor or the one it views is disposed. */
  get buffer(): GPUBuffer {
    return this.#live();
  }

  #live(): GPUBuffer {
    if (this.#disposed || this.#storage.released) {
      const what = `Tensor [${this.shape}] ${this.dtype}`;
      throw this.#disposed || this.#owner
        ? new DisposedError(what, "dispose()", "keep it until its last use")
        : new DisposedError(
          `${what} (a view)`,
          "the tensor it views was disposed",
          "keep that tensor until the view's last use",
        );
    }
    return this.#storage.buffer;
  }

  /** Whether `dispose` was called on it (or, for a view, on the tensor it views). */
  get disposed(): boolean {
    return this.#disposed || this.#storage.released;
  }

  /** Bytes of the elements (4 per element). */
  get byteLength(): number {
    return this.size * 4;
  }

  /** A tensor with unspecified contents (pooled storage may hold old data). */
  static empty<D extends DType = "f32">(gpu: Gpu, shape: readonly number[], dtype?: D): Tensor<D> {
    const bytes = shapeSize(shape) * 4;
    if (bytes > gpu.limits.maxBufferSize) {
      throw new RangeError(
        `tensor [${shape}] needs ${bytes} bytes, above this device's maxBufferSize of ` +
          `${gpu.limits.maxBufferSize} bytes; split it`,
      );
    }
    const buffer = gpu.pool.acquire(Math.max(bytes, 4), USAGE, `tensor [${shape}]`);
    const storage = { buffer, released: false };
    return new Tensor(gpu, [...shape], (dtype ?? "f32") as D, storage, 0, true);
  }

  /** A tensor of zeros. */
  static zeros<D extends DType = "f32">(gpu: Gpu, shape: readonly number[], dtype?: D): Tensor<D> {
    const t = Tensor.empty(gpu, shape, dtype);
    gpu.clear(t);
    return t;
  }

  /** Uploads host data; the shape defaults to one dimension, the type to the array's. */
  static from(gpu: Gpu, data: Uint32Array, shape?: readonly number[]): Tensor<"u32">;
  /** Uploads i32 data. */
  static from(gpu: Gpu, data: Int32Array, shape?: readonly number[]): Tensor<"i32">;
  /** Uploads f32 data. */
  static from(gpu: Gpu, data: Float32Array | readonly number[], shape?: readonly number[]): Tensor;
  /** Uploads numbers as the given element type. */
  static from<D extends DType>(
    gpu: Gpu,
    data: readonly number[],
    shape: readonly number[] | undefined,
    dtype: D,
  ): Tensor<D>;
  static from(
    gpu: Gpu,
    data: Float32Array | Uint32Array | Int32Array | readonly number[],
    shape?: readonly number[],
    dtype?: DType,
  ): Tensor<DType> {
    const kind = dtype ??
      (data instanceof Uint32Array ? "u32" : data instanceof Int32Array ? "i32" : "f32");
    const values = ArrayBuffer.isView(data) ? data : arrayOf(kind).from(data);
    const t = Tensor.empty(gpu, shape ?? [values.length], kind);
    if (t.size !== values.length) {
      t.dispose();
      throw new RangeError(`${values.length} values do not fill shape [${shape}]`);
    }
    gpu.write(t, values);
    return t;
  }

  /**
   * A view of `shape` starting `elementOffset` elements in, sharing this tensor's storage.
   * @param elementOffset Where the view starts, in elements (default 0).
   */
  view(shape: readonly number[], elementOffset?: number): Tensor<D> {
    elementOffset ??= 0;
    this.#live();
    const size = shapeSize(shape);
    if (elementOffset < 0 || elementOffset + size > this.size) {
      throw new RangeError(`view [${shape}] at ${elementOffset} exceeds tensor [${this.shape}]`);
    }
    const offset = this.byteOffset + elementOffset * 4;
    return new Tensor(this.gpu, [...shape], this.dtype, this.#storage, offset, false);
  }

  /** The same storage with another shape of equal size. */
  reshape(shape: readonly number[]): Tensor<D> {
    if (shapeSize(shape) !== this.size) {
      throw new RangeError(`cannot reshape [${this.shape}] to [${shape}]`);
    }
    return this.view(shape, 0);
  }

  /** Copies the elements to the CPU (one readback). */
  async read(): Promise<HostArray<D>> {
    const [out] = await this.gpu.read([this]);
    return hostArray(this.dtype, out);
  }

  /** Returns the storage to the pool; this tensor and views of it can no longer be used. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#owner && !this.#storage.released) {
      this.#storage.released = true;
      this.gpu.pool.release(this.#storage.buffer);
    }
  }

  /** Disposes it at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Reads several tensors of one device with a single readback. */
export async function readTensors<T extends readonly Tensor<DType>[]>(
  tensors: T,
): Promise<{ [K in keyof T]: T[K] extends Tensor<infer D> ? HostArray<D> : never }> {
  if (tensors.length === 0) return [] as never;
  const buffers = await tensors[0].gpu.read(tensors);
  return buffers.map((b, i) => hostArray(tensors[i].dtype, b)) as never;
}

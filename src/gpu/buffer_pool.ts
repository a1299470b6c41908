/**
 * Reuses GPU buffers by size class and usage. Buffers are handed back in program order: the
 * GPU runs recorded commands in that order, so a buffer released after its last recorded use
 * may be reused by a command recorded later in the same submission.
 * @module
 */

/** Rounds up to one of four size classes per power of two (at most 25% waste), minimum 256. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** Math.max(8, Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

/** A pool of GPU buffers keyed by (size class, usage). */
export class BufferPool {
  #free = new Map<string, GPUBuffer[]>();
  #closed: (() => Error) | null = null;
  #live = 0;
  #pooledBytes = 0;

  /** A pool for `device`. */
  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes with exactly `usage`. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    if (this.#closed) throw this.#closed();
    const size = sizeClass(bytes);
    const stack = this.#free.get(`${size}:${usage}`);
    this.#live++;
    const reused = stack?.pop();
    if (reused) {
      this.#pooledBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage, label });
  }

  /** Gives a buffer back for reuse by later commands. */
  release(buffer: GPUBuffer): void {
    if (this.#closed) return; // its device is gone, and the buffer with it
    const key = `${buffer.size}:${buffer.usage}`;
    let stack = this.#free.get(key);
    if (!stack) this.#free.set(key, stack = []);
    stack.push(buffer);
    this.#live--;
    this.#pooledBytes += buffer.size;
  }

  /** Destroys every pooled (not live) buffer. */
  trim(): void {
    for (const stack of this.#free.values()) for (const b of stack) b.destroy();
    this.#free.clear();
    this.#pooledBytes = 0;
  }

  /** Destroys the pooled buffers; later acquires throw `error()`, releases do nothing. */
  close(error: () => Error): void {
    this.trim();
    this.#closed = error;
  }

  /** Buffers handed out and not yet released, and bytes kept for reuse. */
  get stats(): { live: number; pooledBytes: number } {
    return { live: this.#live, pooledBytes: this.#pooledBytes };
  }
}

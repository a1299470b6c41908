/**
 * GPU-side timing with timestamp queries (adapters with the `timestamp-query` feature).
 * Spans are recorded into the command stream like kernels; `results` reads them all back at
 * once, so timing adds no readback to the work being timed.
 * @module
 */
import type { Gpu } from "./gpu.ts";

/** One timed span: what ran between `begin` and `end`, in milliseconds of GPU time. */
export interface Timing {
  /** The label given to `begin`. */
  label: string;
  /** GPU time between the two timestamps. */
  ms: number;
}

/** Records labelled spans of GPU time; available when `gpu.hasTimestamps`. */
export class GpuTimer {
  #querySet: GPUQuerySet;
  #labels: string[] = [];
  #open = new Set<number>();

  /** A timer that can hold `capacity` spans between reads. */
  constructor(private readonly gpu: Gpu, readonly capacity = 256) {
    if (!gpu.hasTimestamps) {
      throw new Error(`adapter "${gpu.adapter}" has no timestamp-query feature; time on the CPU`);
    }
    this.#querySet = gpu.device.createQuerySet({ type: "timestamp", count: 2 * capacity });
  }

  /** Starts a span; returns its id for `end`. */
  begin(label: string): number {
    const id = this.#labels.length;
    if (id >= this.capacity) throw new RangeError(`GpuTimer holds at most ${this.capacity} spans`);
    this.#labels.push(label);
    this.#open.add(id);
    this.gpu.timestamp(this.#querySet, 2 * id);
    return id;
  }

  /** Ends span `id`. */
  end(id: number): void {
    if (!this.#open.delete(id)) throw new Error(`timer span ${id} is not open`);
    this.gpu.timestamp(this.#querySet, 2 * id + 1);
  }

  /** Reads back every span recorded so far (one readback) and starts over. */
  async results(): Promise<Timing[]> {
    if (this.#open.size > 0) throw new Error("results() called with timer spans still open");
    const count = 2 * this.#labels.length;
    if (count === 0) return [];
    const resolved = this.gpu.device.createBuffer({
      size: count * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.gpu.resolveQueries(this.#querySet, count, resolved);
    const [raw] = await this.gpu.read([{ buffer: resolved, byteOffset: 0, byteLength: count * 8 }]);
    resolved.destroy();
    const ns = new BigUint64Array(raw);
    const out = this.#labels.map((label, i) => ({
      label,
      ms: Number(ns[2 * i + 1] - ns[2 * i]) / 1e6,
    }));
    this.#labels = [];
    return out;
  }

  /** Frees the query set. */
  destroy(): void {
    this.#querySet.destroy();
  }
}

/**
 * What the landscape computations allocate, as {@link Need}s of their sizes: every buffer they
 * bind whole (checked against the adapter's largest storage binding) and the host memory they
 * hold at once (checked against what the host has, when known; on a software adapter device
 * buffers are host memory too). The formulas follow the code they describe: directions.ts
 * (drawn, read back, normalised, interleaved), loss_matrix.ts and delta.ts (the T x n matrix,
 * its prefix sums, differences and read-back), grid.ts and width.ts (their coefficients).
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import type { Cap, Need, SizeOf } from "./sizes.ts";

/** What a computation may take: one buffer's bytes, host memory, and where device memory is. */
export interface Budget {
  /** The largest buffer the engine binds (min of maxStorageBufferBindingSize, maxBufferSize). */
  buffer: Cap;
  /** Host memory available, when known (a browser does not say). */
  host?: Cap;
  /** Device buffers live in host memory (a software adapter such as lavapipe). */
  deviceInHost: boolean;
}

/** The budget of `gpu`, with `hostBytes` of host memory available when known. */
export function budgetOf(gpu: Gpu, hostBytes?: number): Budget {
  const { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } = gpu.limits;
  return {
    buffer: {
      amount: Math.min(binding, buffer),
      name: `this adapter's ${binding <= buffer ? "maxStorageBufferBindingSize" : "maxBufferSize"}`,
      unit: "bytes",
    },
    host: hostBytes === undefined
      ? undefined
      : { amount: hostBytes, name: "the memory available on this machine", unit: "bytes" },
    deviceInHost: gpu.software,
  };
}

/** An amount that grows with the named sizes. */
export interface Term {
  /** Names of the sizes it grows with. */
  grows: string[];
  /** Its value at the given sizes. */
  of(size: SizeOf): number;
}

/** The size `name` itself. */
export function size(name: string): Term {
  return { grows: [name], of: (s) => s(name) };
}

/** A constant. */
export function fixed(value: number): Term {
  return { grows: [], of: () => value };
}

/** `f` of the terms' values, growing with all of their sizes. */
export function combine(terms: Term[], f: (...values: number[]) => number): Term {
  return {
    grows: [...new Set(terms.flatMap((t) => t.grows))],
    of: (s) => f(...terms.map((t) => t.of(s))),
  };
}

/** Memory one computation holds at once. */
export interface Footprint {
  /** Buffers bound whole by a kernel: each must fit the adapter's binding limit. */
  buffers: { what: string; bytes: Term }[];
  /** Other device memory, in bytes. */
  device: Term[];
  /** Host memory, in bytes. */
  host: Term[];
}

/** One footprint of everything in `parts` (held at the same time). */
export function together(...parts: Footprint[]): Footprint {
  return {
    buffers: parts.flatMap((p) => p.buffers),
    device: parts.flatMap((p) => p.device),
    host: parts.flatMap((p) => p.host),
  };
}

/** The needs of a footprint under a budget: each buffer, then host memory as a whole. */
export function footprintNeeds(what: string, f: Footprint, budget: Budget): Need[] {
  const needs: Need[] = f.buffers.map((b) => ({
    what: `${b.what} (one buffer)`,
    grows: b.bytes.grows,
    amount: b.bytes.of,
    cap: budget.buffer,
  }));
  if (budget.host) {
    const host = combine(
      [...f.host, ...(budget.deviceInHost ? [...f.device, ...f.buffers.map((b) => b.bytes)] : [])],
      (...v) => v.reduce((a, b) => a + b, 0),
    );
    needs.push({ what, grows: host.grows, amount: host.of, cap: budget.host });
  }
  return needs;
}

/** Columns of the interleaved directions: `count` padded to a multiple of 4 (at least 4). */
const columns = (count: number) => Math.max(4, Math.ceil(count / 4) * 4);

/**
 * `count` directions over `params` flat parameters (directions.ts): drawn on the device, read
 * back with w*, normalised into host arrays, interleaved into one [params, columns] buffer.
 */
export function directionsFootprint(params: number, count: Term): Footprint {
  return {
    buffers: [{
      what: "the directions",
      bytes: combine([count], (c) => params * columns(c) * 4),
    }],
    device: [combine([count], (c) => c * params * 4)],
    host: [combine([count], (c) => (2 * c + 1 + columns(c)) * params * 4)],
  };
}

/**
 * A loss matrix of `rows` points x `samples` columns (loss_matrix.ts). With `differences`, the
 * prefix sums and differences of delta.ts (with `reshuffle` also a permutation and a permuted
 * copy), read back to the host; without, only the per-point means are.
 */
export function lossMatrixFootprint(
  rows: Term,
  samples: Term,
  o: { differences?: boolean; reshuffle?: boolean } = {},
): Footprint {
  const bytes = combine([rows, samples], (r, n) => r * n * 4);
  const copies = o.differences ? (o.reshuffle ? 4 : 2) : 0;
  return {
    buffers: [{ what: "the loss matrix", bytes }],
    device: [combine([bytes], (b) => copies * b)],
    host: [o.differences ? bytes : combine([rows], (r) => r * 4)],
  };
}

/** Host coefficients of `points` subspace points over `count` directions (grid.ts, width.ts). */
export function coefficientsFootprint(points: Term, count: Term): Footprint {
  return {
    buffers: [],
    device: [],
    host: [combine([points, count], (p, c) => p * columns(c) * 4)],
  };
}

/**
 * A training step on `batch` samples of a model whose layers see per-sample `shapes`
 * (`layerShapes`): every activation is kept for the backward pass beside its gradient, and
 * each is one buffer (the widest is what must fit).
 */
export function trainingFootprint(shapes: number[][], batch: Term): Footprint {
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const widest = Math.max(...sizes), total = sizes.reduce((a, b) => a + b, 0);
  return {
    buffers: [{ what: "the widest activation", bytes: combine([batch], (b) => b * widest * 4) }],
    device: [combine([batch], (b) => 2 * b * total * 4)],
    host: [combine([batch], (b) => b * sizes[0] * 4)],
  };
}

/** `count` samples drawn in order from the `available` training samples (sampleOrder). */
export function samplesNeed(what: string, count: Term, available: number): Need {
  return {
    what,
    grows: count.grows,
    amount: count.of,
    cap: { amount: available, name: "the training samples", unit: "samples" },
  };
}

const none: Footprint = { buffers: [], device: [], host: [] };
const all = (points: Term) => points;

/**
 * A Δk curve (estimate.ts): its sample order of `columns` samples out of `available`, the
 * directions of a subspace of `dim` if any, and the loss matrix of `points` rows.
 */
export function curveNeeds(
  b: Budget,
  params: number,
  o: { points: Term; columns: Term; dim?: Term; reshuffle: boolean; available: number },
): Need[] {
  return [
    samplesNeed("the Δk sample order", o.columns, o.available),
    ...footprintNeeds(
      "the Δk loss matrix and directions",
      together(
        o.dim ? directionsFootprint(params, o.dim) : none,
        lossMatrixFootprint(o.points, o.columns, { differences: true, reshuffle: o.reshuffle }),
      ),
      b,
    ),
  ];
}

/**
 * A `grid` x `grid` landscape over `samples` evaluation samples (grid.ts); `rows` gives the
 * points evaluated of the grid's (default all of them).
 */
export function gridNeeds(
  b: Budget,
  params: number,
  o: { grid: Term; samples: Term; rows?: (points: Term) => Term },
): Need[] {
  const points = combine([o.grid], (g) => g * g), two = fixed(2);
  return footprintNeeds(
    "the landscape grid",
    together(
      directionsFootprint(params, two),
      coefficientsFootprint(points, two),
      lossMatrixFootprint((o.rows ?? all)(points), o.samples),
    ),
    b,
  );
}

/**
 * A width measurement (width.ts): w* and `steps` probes along both signs of `directions` rays,
 * over `samples` evaluation samples; `rows` gives the probes evaluated (default all).
 */
export function widthNeeds(
  b: Budget,
  params: number,
  o: { directions: Term; steps: Term; samples: Term; rows?: (points: Term) => Term },
): Need[] {
  const probes = combine([o.directions, o.steps], (d, s) => 1 + 2 * d * s);
  return footprintNeeds(
    "the width probes",
    together(
      directionsFootprint(params, o.directions),
      coefficientsFootprint(probes, o.directions),
      lossMatrixFootprint((o.rows ?? all)(probes), o.samples),
    ),
    b,
  );
}

/** Integrand maps (grid.ts): a `grid` x `grid` loss matrix of `columns` samples, differenced. */
export function integrandNeeds(
  b: Budget,
  params: number,
  o: { grid: Term; columns: Term; available: number },
): Need[] {
  const points = combine([o.grid], (g) => g * g), two = fixed(2);
  return [
    samplesNeed("the integrand maps' samples", o.columns, o.available),
    ...footprintNeeds(
      "the integrand maps",
      together(
        directionsFootprint(params, two),
        coefficientsFootprint(points, two),
        lossMatrixFootprint(points, o.columns, { differences: true }),
      ),
      b,
    ),
  ];
}

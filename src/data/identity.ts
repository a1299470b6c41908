/**
 * The identity of loaded data: what a result computed from it depends on. Two loads with the
 * same identity hold the same samples in the same order, whichever files or options they came
 * from, so a run folder can tell a result of these data from one of other data.
 * @module
 */
import type { Dataset, DataSplits } from "./dataset.ts";
import { sha256 } from "../report/digest.ts";

/** Sizes and a digest of the splits' samples and labels. */
export interface DataIdentity {
  /** Dataset name, e.g. "fashion-mnist". */
  name: string;
  /** Samples per split. */
  train: number;
  validation: number;
  test: number;
  /** Per-sample shape, e.g. "1x28x28". */
  shape: string;
  /** SHA-256 over every split's images and labels, in order. */
  sha256: string;
}

function bytesOf(a: Float32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function splitDigest(d: Dataset): Promise<string> {
  return `${await sha256(bytesOf(d.images))}${await sha256(bytesOf(d.labels))}`;
}

/** The identity of `data` (one pass of SHA-256 over its arrays). */
export async function dataIdentity(data: DataSplits): Promise<DataIdentity> {
  const parts = [data.train, data.validation, data.test];
  const digests = await Promise.all(parts.map(splitDigest));
  return {
    name: data.train.name.split("/")[0],
    train: data.train.labels.length,
    validation: data.validation.labels.length,
    test: data.test.labels.length,
    shape: data.train.shape.join("x"),
    sha256: await sha256(new TextEncoder().encode(digests.join(""))),
  };
}

/**
 * Kernel parameters: a uniform struct of 4-byte scalars, written in the order the WGSL
 * struct declares them (u32, i32 and f32 fields only, so no padding rules apply).
 * @module
 */

/** Builds the bytes of a kernel's parameter struct, field by field. */
export class Params {
  #view: DataView;
  #length = 0;

  /** An empty struct with room for `capacity` fields before it grows. */
  constructor(capacity = 16) {
    this.#view = new DataView(new ArrayBuffer(capacity * 4));
  }

  #slot(): number {
    if (this.#length * 4 >= this.#view.byteLength) {
      const bigger = new Uint8Array(this.#view.byteLength * 2);
      bigger.set(new Uint8Array(this.#view.buffer));
      this.#view = new DataView(bigger.buffer);
    }
    return 4 * this.#length++;
  }

  /** Appends a u32 field; throws when the value does not fit. */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`kernel parameter ${value} is not a u32`);
    }
    const at = this.#slot(); // before reading #view: the slot may grow it
    this.#view.setUint32(at, value, true);
    return this;
  }

  /** Appends an i32 field. */
  i32(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`kernel parameter ${value} is not an i32`);
    }
    const at = this.#slot();
    this.#view.setInt32(at, value, true);
    return this;
  }

  /** Appends an f32 field. */
  f32(value: number): this {
    const at = this.#slot();
    this.#view.setFloat32(at, value, true);
    return this;
  }

  /** The struct's bytes, padded to a multiple of 16 as WGSL sizes uniform structs. */
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.max(16, Math.ceil(this.#length / 4) * 16));
    out.set(new Uint8Array(this.#view.buffer, 0, this.#length * 4));
    return out;
  }
}

/** Starts a parameter struct: `params().u32(n).f32(scale)`. */
export function params(): Params {
  return new Params();
}

/**
 * Kernel uniforms: each WGSL uniform struct is described once on the host, as an ordered list
 * of named 4-byte scalars (u32, i32, f32: no padding rules apply), and its values are written
 * by name. The pipeline cache checks a description against the struct the shader declares at
 * the binding before the first launch (see `uniformMismatch`), so a missing, extra, renamed or
 * reordered field is an error naming the shader file and the field, not silent garbage.
 * @module
 */

/** WGSL scalar type of a uniform field. */
export type FieldType = "u32" | "i32" | "f32";

/** A struct's fields in WGSL declaration order, name to type. */
export type Fields = Readonly<Record<string, FieldType>>;

/** One number per field of `F`, by name. */
export type FieldValues<F extends Fields> = { readonly [K in keyof F]: number };

/** The bytes of one uniform struct, as a kernel launch binds them. */
export class Uniforms {
  /** Bytes written for `struct` (a multiple of 16 long, as WGSL sizes uniform buffers). */
  constructor(
    /** The description the bytes follow. */
    readonly struct: UniformStruct,
    /** The struct's bytes. */
    readonly bytes: Uint8Array,
  ) {}
}

/** Thrown when a field's value does not fit its type or a field is missing or unknown. */
export class UniformValueError extends RangeError {
  /** An error about field `field` of `struct`. */
  constructor(struct: string, field: string, problem: string) {
    super(`uniform ${struct}.${field} ${problem}`);
    this.name = "UniformValueError";
  }
}

const RANGES: Record<FieldType, [number, number] | null> = {
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  f32: null,
};

/** A WGSL uniform struct described on the host: its name and its fields in order. */
export class UniformStruct<F extends Fields = Fields> {
  /** The struct `name` (as the WGSL declares it) with `fields` in declaration order. */
  constructor(
    /** The WGSL struct's name. */
    readonly name: string,
    /** Field names to types, in WGSL declaration order. */
    readonly fields: F,
  ) {}

  /** The struct's bytes, every field taken by name from `values` (all of them, no others). */
  write(values: FieldValues<F>): Uniforms {
    const names = Object.keys(this.fields);
    for (const key of Object.keys(values)) {
      if (!(key in this.fields)) {
        throw new UniformValueError(this.name, key, `is not a field (fields: ${names.join(", ")})`);
      }
    }
    const view = new DataView(new ArrayBuffer(Math.max(16, Math.ceil(names.length / 4) * 16)));
    names.forEach((name, i) => {
      const value = (values as Record<string, number>)[name];
      if (value === undefined) throw new UniformValueError(this.name, name, "is missing");
      const type = this.fields[name];
      const range = RANGES[type];
      if (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1])) {
        throw new UniformValueError(this.name, name, `= ${value} is not a ${type}`);
      }
      if (type === "u32") view.setUint32(4 * i, value, true);
      else if (type === "i32") view.setInt32(4 * i, value, true);
      else view.setFloat32(4 * i, value, true);
    });
    return new Uniforms(this as UniformStruct, new Uint8Array(view.buffer));
  }

  /** A struct `name` that begins with this one's fields and goes on with `more`. */
  extend<G extends Fields>(name: string, more: G): UniformStruct<F & G> {
    for (const key of Object.keys(more)) {
      if (key in this.fields) throw new UniformValueError(name, key, "is declared twice");
    }
    return new UniformStruct(name, { ...this.fields, ...more } as F & G);
  }
}

/** Describes a WGSL uniform struct: `uniformStruct("Params", { n: "u32", scale: "f32" })`. */
export function uniformStruct<F extends Fields>(name: string, fields: F): UniformStruct<F> {
  return new UniformStruct(name, fields);
}

/** A field of a struct as the WGSL source declares it. */
export interface DeclaredField {
  /** The field's name. */
  name: string;
  /** Its type as written. */
  type: string;
}

/** A uniform struct as a shader declares it, and where. */
export interface DeclaredStruct {
  /** The struct's name. */
  name: string;
  /** Its fields in order. */
  fields: DeclaredField[];
  /** 1-based line of the assembled source where the struct starts. */
  line: number;
}

/** The uniform structs a WGSL source binds in @group(0), by binding number. */
export function declaredUniforms(code: string): Map<number, DeclaredStruct | string> {
  const text = code.replace(/\/\/[^\n]*/g, "");
  const structs = new Map<string, DeclaredStruct>();
  for (const m of text.matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields = m[2].split(",").map((f) => f.trim()).filter((f) => f.length > 0)
      .map((f) => {
        const [name, type = ""] = f.split(":").map((s) => s.trim());
        return { name, type };
      });
    const line = text.slice(0, m.index).split("\n").length;
    structs.set(m[1], { name: m[1], fields, line });
  }
  const out = new Map<number, DeclaredStruct | string>();
  const bindings = /@group\(0\)\s*@binding\((\d+)\)\s*var<uniform>\s*\w+\s*:\s*(\w+)/g;
  for (const m of text.matchAll(bindings)) {
    out.set(Number(m[1]), structs.get(m[2]) ?? m[2]);
  }
  return out;
}

/**
 * Where `struct` disagrees with the struct declared at `binding` of a shader: a sentence naming
 * the field, or null when they agree (same names and types in the same order).
 */
export function uniformMismatch(
  struct: UniformStruct,
  declared: DeclaredStruct | string | undefined,
  binding: number,
): string | null {
  if (declared === undefined) return `declares no uniform at @binding(${binding})`;
  if (typeof declared === "string") return `binds an undeclared struct ${declared}`;
  const host = Object.entries(struct.fields);
  const count = Math.max(host.length, declared.fields.length);
  for (let i = 0; i < count; i++) {
    const wgsl = declared.fields[i];
    const [name, type] = host[i] ?? [];
    if (wgsl && wgsl.name === name && wgsl.type === type) continue;
    const what = wgsl ? `field ${i + 1} of ${declared.name} is ${wgsl.name}: ${wgsl.type}` : "";
    if (!name) return `${what}, which the host description ${struct.name} does not write`;
    if (!wgsl) {
      return `the host writes ${name}: ${type} as field ${i + 1} of ${struct.name}, ` +
        `but ${declared.name} has ${declared.fields.length} fields`;
    }
    return `${what}, but the host writes ${name}: ${type} there`;
  }
  return null;
}

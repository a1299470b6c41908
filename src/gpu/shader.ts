/**
 * WGSL sources assembled from files. WGSL has no includes, so a shader that uses shared
 * functions (the Philox generator, say) is the concatenation of several files; compile errors
 * are mapped back to the file and line they came from.
 * @module
 */

/** One WGSL file's text, plus the files it needs placed before it. */
export interface ShaderSource {
  /** Repository-relative path of the file, used in error messages and as the cache key. */
  readonly file: string;
  /** The file's WGSL text. */
  readonly code: string;
  /** Files whose text goes before this one. */
  readonly deps: readonly ShaderSource[];
}

const declared = new Map<string, ShaderSource>();

/**
 * Declares a WGSL file; `deps` are concatenated before it (each once, in order). The same file
 * with the same dependencies gives the same object, so layers can assemble their variants (a
 * GEMM core, a perturbation) at every call without caching them themselves.
 */
export function wgsl(file: string, code: string, ...deps: ShaderSource[]): ShaderSource {
  const key = [file, ...deps.map(shaderKey)].join("|");
  const known = declared.get(key);
  if (known && known.code === code) return known;
  const src = { file, code, deps };
  declared.set(key, src);
  return src;
}

interface Part {
  file: string;
  firstLine: number; // 1-based line of the assembled text where this file starts
  lines: string[];
}

/** The assembled text of a shader and the map from assembled lines back to files. */
export interface AssembledShader {
  code: string;
  label: string;
  parts: Part[];
}

function flatten(src: ShaderSource, seen: Set<string>, out: ShaderSource[]): void {
  for (const dep of src.deps) flatten(dep, seen, out);
  if (seen.has(src.file)) return;
  seen.add(src.file);
  out.push(src);
}

/**
 * Identity of an assembled shader: its files in assembly order. One file assembled with
 * different dependencies (a layer with or without perturbation, say) is a different shader.
 */
export function shaderKey(src: ShaderSource): string {
  const files: ShaderSource[] = [];
  flatten(src, new Set(), files);
  return files.map((f) => f.file).join("+");
}

/** Concatenates a shader with its dependencies, remembering where each file starts. */
export function assemble(src: ShaderSource): AssembledShader {
  const files: ShaderSource[] = [];
  flatten(src, new Set(), files);
  const parts: Part[] = [];
  let line = 1;
  for (const f of files) {
    const lines = f.code.replace(/\n$/, "").split("\n");
    parts.push({ file: f.file, firstLine: line, lines });
    line += lines.length;
  }
  return { code: parts.map((p) => p.lines.join("\n")).join("\n") + "\n", label: src.file, parts };
}

/** Maps a 1-based line of the assembled text to "file:line" and the source line itself. */
export function locate(
  shader: AssembledShader,
  line: number,
): { file: string; line: number; text: string } {
  for (let i = shader.parts.length - 1; i >= 0; i--) {
    const p = shader.parts[i];
    if (line >= p.firstLine) {
      const local = line - p.firstLine + 1;
      return { file: p.file, line: local, text: p.lines[local - 1] ?? "" };
    }
  }
  return { file: shader.label, line, text: "" };
}

/** Thrown for WGSL compile errors: names the file and line. */
export class ShaderCompileError extends Error {
  /** An error at `file:line:column` with the compiler's `detail`. */
  constructor(
    /** The WGSL file that holds the error. */
    readonly file: string,
    /** 1-based line in that file. */
    readonly line: number,
    /** 1-based column. */
    readonly column: number,
    /** The compiler's message and the offending line. */
    readonly detail: string,
  ) {
    super(`WGSL error in ${file}:${line}:${column}: ${detail}`);
    this.name = "ShaderCompileError";
  }
}

/** Pulls the one informative line out of a compiler message (naga repeats the source). */
function summarize(message: string): string {
  const lines = message.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  const first = lines[0] ?? message;
  return first.replace(/^Shader '[^']*' parsing error:\s*/, "");
}

/** Turns the first error of a compilation into a {@link ShaderCompileError}, or null. */
export function compileError(
  shader: AssembledShader,
  info: GPUCompilationInfo,
): ShaderCompileError | null {
  const err = info.messages.find((m) => m.type === "error");
  if (!err) return null;
  const where = locate(shader, err.lineNum || 1);
  const src = where.text.trim();
  const detail = summarize(err.message) + (src ? `\n    ${where.line} | ${src}` : "");
  return new ShaderCompileError(where.file, where.line, err.linePos, detail);
}

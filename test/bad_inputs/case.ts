/**
 * One bad input of the corpus: the command line it runs (after `prepare` has made its files in
 * a fresh folder), the error it must name, and the exit code. Every case also asserts that
 * nothing new was written under the case's folder except what `prepare` made.
 */
export interface BadInput {
  /** What is wrong, as a person would say it. */
  name: string;
  /** Makes the case's input files in `dir` (a fresh folder whose path contains a space). */
  prepare?: (dir: string) => Promise<void> | void;
  /** Which command line runs it (default "experiment", i.e. `deno task experiment`). */
  program?: "experiment" | "serve";
  /** The CLI arguments; `{dir}` is replaced by the case's folder. */
  args: string[];
  /** What the message must match. */
  error: RegExp;
  /** Expected exit code (default: any non-zero). */
  code?: number;
  /** Needs a GPU adapter (runs as a gpuTest). */
  gpu?: boolean;
}

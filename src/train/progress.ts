/**
 * Progress of long work on the terminal: a redrawn bar with rate and ETA when stderr is a
 * terminal, plain lines at most every few seconds otherwise (logs, CI).
 * @module
 */

/** Formats seconds as "1h02m", "3m05s" or "42s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Where progress goes; `write` receives raw text (tests capture it). */
export interface ProgressSink {
  /** Writes raw text. */
  write(text: string): void;
  /** Whether the sink is a terminal (redrawn bar) or a log (plain lines). */
  isTerminal: boolean;
}

/** stderr as a sink (the console where there is no stderr, e.g. in a browser). */
export function stderrSink(): ProgressSink {
  // Through globalThis, so that bundles for browsers hold no reference to Deno.
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!deno) return { write: (text) => console.log(text.trimEnd()), isTerminal: false };
  const encoder = new TextEncoder();
  return {
    write: (text) => void deno.stderr.writeSync(encoder.encode(text)),
    isTerminal: deno.stderr.isTerminal(),
  };
}

/** A silent sink. */
export const quietSink: ProgressSink = { write: () => {}, isTerminal: false };

/** Progress of one task of `total` units. */
export class Progress {
  #done = 0;
  #start = performance.now();
  #lastDraw = -Infinity; // the first update always draws
  #detail = "";

  /** Starts tracking `label` (e.g. "epoch 3/20") over `total` units (e.g. "steps"). */
  constructor(
    readonly label: string,
    readonly total: number,
    readonly unit = "steps",
    private readonly sink: ProgressSink = stderrSink(),
    private readonly plainEverySeconds = 10,
  ) {}

  /** Units finished per second so far. */
  get rate(): number {
    return this.#done / Math.max(1e-9, (performance.now() - this.#start) / 1000);
  }

  /** Seconds since the start. */
  get elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  /** Sets the number of finished units and an optional detail (e.g. "loss 0.52"). */
  update(done: number, detail?: string): void {
    this.#done = Math.min(done, this.total);
    if (detail !== undefined) this.#detail = detail;
    const now = performance.now();
    const interval = this.sink.isTerminal ? 100 : this.plainEverySeconds * 1000;
    if (now - this.#lastDraw < interval && this.#done < this.total) return;
    if (!this.sink.isTerminal && this.#done === this.total) return; // finish() says it
    this.#lastDraw = now;
    this.#draw();
  }

  #draw(): void {
    const frac = this.total > 0 ? this.#done / this.total : 1;
    const eta = this.rate > 0 ? (this.total - this.#done) / this.rate : NaN;
    const stats =
      `${this.#done}/${this.total} ${this.unit}, ${this.rate.toFixed(1)}/s, ETA ${
        formatDuration(eta)
      }` +
      (this.#detail ? `, ${this.#detail}` : "");
    if (this.sink.isTerminal) {
      const width = 24, filled = Math.round(frac * width);
      this.sink.write(
        `\r\x1b[2K${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${stats}`,
      );
    } else {
      this.sink.write(`${this.label}: ${(100 * frac).toFixed(0)}% (${stats})\n`);
    }
  }

  /** Ends the task with a one-line summary. */
  finish(summary: string): void {
    const text = `${this.label}: ${summary} (${formatDuration(this.elapsed)})\n`;
    this.sink.write(this.sink.isTerminal ? `\r\x1b[2K${text}` : text);
  }
}

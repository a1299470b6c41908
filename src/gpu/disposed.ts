/**
 * Use after release: a disposed tensor's storage goes back to the pool and is handed to the next
 * tensor, so reading it would silently return another tensor's data. Every use checks first.
 * @module
 */

/** Thrown when a disposed Tensor, Sequential or Gpu is used; the message names which one. */
export class DisposedError extends Error {
  /** `what` (e.g. "Tensor [3, 4] f32") was used after `how` (e.g. "dispose()"). */
  constructor(what: string, how: string, fix: string) {
    super(`${what} was used after ${how}; ${fix}`);
    this.name = "DisposedError";
  }
}

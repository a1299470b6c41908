/**
 * SHA-256 digests as lowercase hex: what run folders and shard manifests record to tell
 * whether a file or a configuration is the one they were made from.
 * @module
 */

/** SHA-256 of `bytes`, as 64 lowercase hex digits. */
export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a file's bytes. */
export async function fileSha256(path: string): Promise<string> {
  return await sha256(await Deno.readFile(path));
}

/**
 * What changed between two JSON values (a step's recorded options and its current ones), said
 * the way a person would check it: "epochs 2 → 3, lr 0.003 → 0.001".
 * @module
 */

type Leaves = Map<string, string>;

function show(value: unknown): string {
  if (value === undefined) return "none";
  if (typeof value === "string") {
    return /^[0-9a-f]{64}$/.test(value) ? `${value.slice(0, 12)}…` : value;
  }
  if (Array.isArray(value)) return value.map(show).join(",");
  return JSON.stringify(value);
}

function leaves(value: unknown, path: string, out: Leaves): Leaves {
  const plainList = Array.isArray(value) &&
    value.every((v) => v === null || typeof v !== "object");
  if (value !== null && typeof value === "object" && !plainList) {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  } else out.set(path, show(value));
  return out;
}

/**
 * The leaves that differ between `before` and `after`, as "path old → new", joined by ", ";
 * at most `limit` of them, then "and N more". Empty when the two are the same.
 */
export function describeChanges(before: unknown, after: unknown, limit = 3): string {
  const a = leaves(JSON.parse(JSON.stringify(before ?? null)), "", new Map());
  const b = leaves(JSON.parse(JSON.stringify(after ?? null)), "", new Map());
  const changed: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const [x, y] = [a.get(key) ?? "none", b.get(key) ?? "none"];
    if (x !== y) changed.push(`${key ? `${key} ` : ""}${x} → ${y}`);
  }
  const more = changed.length > limit ? `, and ${changed.length - limit} more` : "";
  return changed.slice(0, limit).join(", ") + more;
}

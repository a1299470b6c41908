// Inclusive prefix sums along rows of [rows, n], in three kernels:
//   blocks:  each workgroup scans one block of WG * ITEMS values of a row and writes the
//            block's total to sums [rows, blocks];
//   (the host scans sums with the same kernels, recursively, until one block is left)
//   offsets: adds the scanned total of all earlier blocks to every value of a block.
// No invocation loops more than 3 * ITEMS + log2(WG) times, whatever n is.

override WG: u32 = 256; // power of two
override ITEMS: u32 = 4;

struct Params {
  n: u32,
  rows: u32,
  blocks: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// blocks
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> scanned: array<f32>;
@group(0) @binding(3) var<storage, read_write> sums: array<f32>;

// offsets
@group(0) @binding(1) var<storage, read> scannedSums: array<f32>;
@group(0) @binding(2) var<storage, read_write> result: array<f32>;

var<workgroup> tile: array<f32, WG * ITEMS>;
var<workgroup> totals: array<f32, WG>;

@compute @workgroup_size(WG)
fn blocks(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let g = workgroup_index(wg);
  if (g >= p.rows * p.blocks) {
    return;
  }
  let row = g / p.blocks;
  let start = (g % p.blocks) * WG * ITEMS;
  let base = row * p.n;
  // Coalesced load into workgroup memory, zero past the end of the row.
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k * WG + lid;
    var v = 0.0;
    if (i < p.n) {
      v = values[base + i];
    }
    tile[k * WG + lid] = v;
  }
  workgroupBarrier();
  // Each invocation scans its ITEMS consecutive values sequentially.
  var run = 0.0;
  for (var j = 0u; j < ITEMS; j++) {
    run += tile[lid * ITEMS + j];
    tile[lid * ITEMS + j] = run;
  }
  totals[lid] = run;
  workgroupBarrier();
  // Hillis-Steele inclusive scan of the per-invocation totals.
  for (var off = 1u; off < WG; off <<= 1u) {
    var t = totals[lid];
    if (lid >= off) {
      t += totals[lid - off];
    }
    workgroupBarrier();
    totals[lid] = t;
    workgroupBarrier();
  }
  let before = select(0.0, totals[max(lid, 1u) - 1u], lid > 0u);
  for (var j = 0u; j < ITEMS; j++) {
    tile[lid * ITEMS + j] += before;
  }
  workgroupBarrier();
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k * WG + lid;
    if (i < p.n) {
      scanned[base + i] = tile[k * WG + lid];
    }
  }
  if (lid == 0u) {
    sums[g] = totals[WG - 1u];
  }
}

@compute @workgroup_size(WG)
fn offsets(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
  let g = workgroup_index(wg);
  if (g >= p.rows * p.blocks) {
    return;
  }
  let block = g % p.blocks;
  if (block == 0u) {
    return;
  }
  let row = g / p.blocks;
  let add = scannedSums[row * p.blocks + block - 1u];
  let start = block * WG * ITEMS;
  for (var k = 0u; k < ITEMS; k++) {
    let i = start + k * WG + lid;
    if (i < p.n) {
      result[row * p.n + i] += add;
    }
  }
}

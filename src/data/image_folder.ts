/**
 * An image-folder dataset: ROOT/CLASS/IMAGE, one sub-folder per class (classes numbered in
 * name order), PNG and JPEG images decoded by fast-png and jpeg-js, every image the same size.
 * Samples are numbered class by class, files in name order; values are scaled into [0, 1].
 * A folder of grayscale images gives one channel, any colour image three (RGB, grayscale ones
 * repeated; alpha is dropped).
 * @module
 */
import { convertIndexedToRgb, decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import { DataError } from "./dataset.ts";
import { readBytes } from "./idx.ts";

/** Images of a folder, decoded. */
export interface ImageFolder {
  /** Class names (the sub-folders), in label order. */
  classes: string[];
  /** Per-image shape [C, H, W]. */
  shape: number[];
  /** images x C x H x W values in [0, 1]. */
  values: Float32Array;
  /** Each image's class. */
  labels: Uint8Array;
  /** Each image's path, in sample order. */
  paths: string[];
}

const IMAGE = /\.(png|jpe?g)$/i;

/** One decoded image as interleaved channels, `gray` when it has a single one. */
interface Pixels {
  width: number;
  height: number;
  gray: boolean;
  /** width x height x (gray ? 1 : 3) values in [0, 1]. */
  data: Float32Array;
}

function decode(path: string, bytes: Uint8Array): Pixels {
  try {
    if (/\.png$/i.test(path)) {
      let img = decodePng(bytes);
      let channels = img.channels;
      let data: ArrayLike<number> = img.data;
      if (img.palette) {
        data = convertIndexedToRgb(img);
        channels = img.palette[0].length;
        img = { ...img, depth: 8 };
      }
      const scale = 1 / (2 ** img.depth - 1);
      const gray = channels <= 2;
      const keep = gray ? 1 : 3;
      const n = img.width * img.height;
      const out = new Float32Array(n * keep);
      for (let p = 0; p < n; p++) {
        for (let c = 0; c < keep; c++) out[p * keep + c] = data[p * channels + c] * scale;
      }
      return { width: img.width, height: img.height, gray, data: out };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    const n = img.width * img.height;
    const out = new Float32Array(n * 3);
    let gray = true;
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) out[p * 3 + c] = img.data[p * 4 + c] / 255;
      gray &&= img.data[p * 4] === img.data[p * 4 + 1] && img.data[p * 4] === img.data[p * 4 + 2];
    }
    return {
      width: img.width,
      height: img.height,
      gray,
      data: gray ? out.filter((_, i) => i % 3 === 0) : out,
    };
  } catch (e) {
    throw new DataError(path, `cannot decode the image (${(e as Error).message})`);
  }
}

async function listDir(path: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(path)) if (!e.name.startsWith(".")) out.push(e);
  } catch (e) {
    throw new DataError(
      path,
      e instanceof Deno.errors.NotFound
        ? "folder not found"
        : `cannot read: ${(e as Error).message}`,
    );
  }
  return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Reads the image folder `root`; errors name the folder or image and the problem. With
 * `known` (a training folder's classes), sub-folders are labelled by their place in it and may
 * be fewer (a small test set).
 */
export async function readImageFolder(root: string, known?: string[]): Promise<ImageFolder> {
  const found = (await listDir(root)).filter((e) => e.isDirectory).map((e) => e.name);
  const unknown = known && found.find((c) => !known.includes(c));
  if (unknown !== undefined) {
    throw new DataError(
      `${root}/${unknown}`,
      `is not a class of the training folder (${known!.join(", ")})`,
    );
  }
  const classes = known ?? found;
  if (classes.length === 0) {
    throw new DataError(root, "has no class sub-folders; put each class's images in ROOT/CLASS/");
  }
  if (classes.length > 256) {
    throw new DataError(root, `has ${classes.length} class folders; at most 256 are supported`);
  }
  const paths: string[] = [], labels: number[] = [];
  for (const name of found) {
    const label = classes.indexOf(name);
    const files = (await listDir(`${root}/${name}`)).filter((e) => e.isFile && IMAGE.test(e.name));
    if (files.length === 0) {
      throw new DataError(`${root}/${name}`, "holds no .png, .jpg or .jpeg image");
    }
    for (const f of files) {
      paths.push(`${root}/${name}/${f.name}`);
      labels.push(label);
    }
  }
  const images: Pixels[] = [];
  for (const path of paths) {
    const img = decode(path, await readBytes(path));
    const first = images[0] ?? img;
    if (img.width !== first.width || img.height !== first.height) {
      throw new DataError(
        path,
        `is ${img.width} x ${img.height}, the first image ${
          paths[0]
        } is ${first.width} x ${first.height}; ` +
          `every image must be the same size`,
      );
    }
    images.push(img);
  }
  const channels = images.every((img) => img.gray) ? 1 : 3;
  const { width, height } = images[0], plane = width * height;
  const values = new Float32Array(images.length * channels * plane);
  images.forEach((img, i) => {
    const at = i * plane * channels;
    // Interleaved pixels to channel planes (C, H, W); a gray image fills every channel.
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) {
        values[at + c * plane + p] = img.gray ? img.data[p] : img.data[p * 3 + c];
      }
    }
  });
  return {
    classes,
    shape: [channels, height, width],
    values,
    labels: Uint8Array.from(labels),
    paths,
  };
}

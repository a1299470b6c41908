/**
 * What the test suite needs beyond Deno and a WebGPU adapter, and how to find it: Chromium for
 * the browser test, Debian's PyTorch for the state-dict round trip. The test task's preflight
 * installs each on Debian as root, or names the command; a test never skips for want of one.
 * @module
 */

/** The Chromium executable to drive (`CHROMIUM_PATH`, else Debian's or Ubuntu's), if any. */
export function findChromium(): string | undefined {
  const candidates = [
    Deno.env.get("CHROMIUM_PATH"),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
  ];
  for (const path of candidates) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // next candidate
    }
  }
  return undefined;
}

/** The Python that has Debian's python3-torch (the system one, not a pyenv or venv shim). */
export const TORCH_PYTHON = "/usr/bin/python3";

/** Whether Debian's python3-torch imports. */
export function hasTorch(): boolean {
  try {
    return new Deno.Command(TORCH_PYTHON, {
      args: ["-c", "import torch"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** Something the tests need, the Debian package that provides it, and how to tell it is here. */
export interface TestTool {
  /** What it is and which test needs it. */
  what: string;
  /** The Debian package. */
  pkg: string;
  /** Whether it is installed. */
  present(): boolean;
  /** Another way to provide it, if any. */
  alternative?: string;
}

/** Everything the test suite needs beyond Deno and an adapter. */
export const TEST_TOOLS: TestTool[] = [
  {
    what: "Chromium (the browser test)",
    pkg: "chromium",
    present: () => findChromium() !== undefined,
    alternative: "set CHROMIUM_PATH to its executable",
  },
  {
    what: "PyTorch (the state-dict round-trip test)",
    pkg: "python3-torch",
    present: hasTorch,
  },
];

/** One line that says a tool is missing and how to get it. */
export function missingMessage(tool: TestTool): string {
  const or = tool.alternative ? ` or ${tool.alternative}` : "";
  return `${tool.what} not found: install it (Debian/Ubuntu: sudo apt-get install ${tool.pkg})${or}.`;
}

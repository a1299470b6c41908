/**
 * Where the browser test finds Chromium: `CHROMIUM_PATH`, else Debian's or Ubuntu's package.
 * @module
 */

/** The Debian package that provides Chromium. */
export const CHROMIUM_PACKAGE = "chromium";

/** The Chromium executable to drive, or undefined when none is installed. */
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

/** One line that says how to get Chromium. */
export const NO_CHROMIUM_MESSAGE = "Chromium not found: the browser test needs it. Install it " +
  `(Debian/Ubuntu: sudo apt-get install ${CHROMIUM_PACKAGE}) or set CHROMIUM_PATH to its executable.`;

/// <reference lib="dom" />
/**
 * The page's script: finds the browser's WebGPU adapter (or says plainly that there is none),
 * runs the kernel checks and the live demo on it, and shows a run folder's results when the
 * server has one. State for automated tests is kept in `globalThis.landscape`.
 *
 * URL parameters: `?checks` runs the checks, `?demo=quick|full` runs the demo, on load.
 * @module
 */
import { Gpu } from "../mod.ts";
import { deltaFigure } from "../src/plot/figures.ts";
import { showFigure } from "./figure_view.ts";
import { type CheckResult, runChecks } from "./checks.ts";
import { DEMO_SIZES, type DemoResult, runDemo } from "./demo.ts";
import { escapeHtml } from "../src/report/document.ts";
import { showResults } from "./results.ts";

/** What the page has done, for people and for the browser test. */
interface PageState {
  status: "starting" | "no-webgpu" | "error" | "ready";
  adapter?: string;
  error?: string;
  checks?: CheckResult[];
  demo?: DemoResult;
  demoError?: string;
  results?: { files: number; figures: number; error?: string };
}

const state: PageState = { status: "starting" };
(globalThis as unknown as { landscape: PageState }).landscape = state;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const results = showResults($("results-section"), $("run-folder"), $("results"))
    .then((r) => void (state.results = r));
  if (!("gpu" in navigator) || !navigator.gpu) {
    state.status = "no-webgpu";
    $("adapter").innerHTML = `<span class="error">This browser has no WebGPU.</span> Use a ` +
      `current Chrome, Edge or Firefox; on Linux, Chrome needs ` +
      `<code>--enable-unsafe-webgpu</code> (or chrome://flags/#enable-unsafe-webgpu). The results ` +
      `of a run folder below still show without it.`;
    await results;
    return;
  }
  let gpu: Gpu;
  try {
    gpu = await Gpu.create();
  } catch (e) {
    state.status = "error";
    state.error = (e as Error).message;
    $("adapter").innerHTML = `<span class="error">${escapeHtml(state.error)}</span>`;
    await results;
    return;
  }
  state.adapter = gpu.adapter;
  const limits = gpu.limits;
  $("adapter").textContent =
    `Adapter: ${gpu.adapter} (up to ${limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup, ${
      (limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)
    } MiB per storage binding)`;
  state.status = "ready";

  const checksButton = $<HTMLButtonElement>("run-checks");
  const demoButton = $<HTMLButtonElement>("run-demo");
  const checks = async () => {
    checksButton.disabled = true;
    const body = $("checks").querySelector("tbody")!;
    body.innerHTML = "";
    state.checks = await runChecks(gpu, (r) => {
      body.insertAdjacentHTML(
        "beforeend",
        `<tr><td>${escapeHtml(r.name)}</td><td class="${r.ok ? "ok" : "fail"}">${
          r.ok ? "matches float64" : escapeHtml(r.error ?? "failed")
        }</td><td>${
          r.closest
            ? `${r.closest.error.toExponential(2)} ≤ ${r.closest.bound.toExponential(2)}`
            : ""
        }</td><td>${r.milliseconds.toFixed(0)}</td></tr>`,
      );
    });
    checksButton.disabled = false;
  };
  const demo = async (size: keyof typeof DEMO_SIZES) => {
    demoButton.disabled = true;
    state.demo = undefined;
    state.demoError = undefined;
    try {
      const r = await runDemo(gpu, DEMO_SIZES[size], (stage, fraction) => {
        $("bar").style.width = `${(100 * Math.min(1, fraction)).toFixed(1)}%`;
        $("stage").textContent = `${stage} ${(100 * fraction).toFixed(0)}%`;
      });
      state.demo = r;
      $("demo-result").innerHTML = `Test accuracy ${(100 * r.testAccuracy).toFixed(2)}%; ` +
        (r.fit
          ? `fitted Δk ∝ k<sup>−p</sup> with p = ${r.fit.p.toFixed(2)}${
            r.fit.interval
              ? ` (95% interval ${r.fit.interval[0].toFixed(2)} to ${r.fit.interval[1].toFixed(2)})`
              : ""
          }`
          : "no rate fit (too few points)") +
        `; ${r.seconds.toFixed(1)} s on ${escapeHtml(r.adapter)}.` +
        (r.finite ? "" : ` <span class="error">Some Δk values are not finite.</span>`);
      // The report's Δk figure, with the demo's curve and fit.
      const chart = $("demo-chart");
      chart.innerHTML = "";
      const k = r.curve.k;
      await showFigure(
        chart,
        deltaFigure(
          `Live demo: Δk against k (σ = ${DEMO_SIZES[size].sigma}) on ${r.adapter}`,
          [{ label: `σ = ${DEMO_SIZES[size].sigma}`, ...r.curve }],
          r.fit
            ? [{
              label: `fit p = ${r.fit.p.toFixed(2)}`,
              curve: `σ = ${DEMO_SIZES[size].sigma}`,
              ...r.fit,
              kFrom: k[0],
              kTo: k[k.length - 1],
            }]
            : [],
        ),
      );
    } catch (e) {
      state.demoError = (e as Error).message;
      $("demo-result").innerHTML = `<span class="error">${escapeHtml(state.demoError)}</span>`;
    }
    demoButton.disabled = false;
  };
  checksButton.onclick = checks;
  demoButton.onclick = () => demo($<HTMLInputElement>("demo-full").checked ? "full" : "quick");
  checksButton.disabled = demoButton.disabled = false;
  if (params.has("checks")) await checks();
  const size = params.get("demo");
  if (size === "quick" || size === "full") await demo(size);
  await results;
}

start().catch((e) => {
  state.status = "error";
  state.error = (e as Error).message;
});

/**
 * The command line: `deno task experiment COMMAND [options]`.
 * @module
 */
import { NoAdapterError } from "./gpu/gpu.ts";
import { CliError, helpText, type OptionSet, parseOptions } from "./cli/options.ts";
import { forgetOutDirs, removeEmptyOutDirs } from "./cli/out_dir.ts";
import { trainCommand, trainOptions } from "./cli/train_command.ts";
import {
  deltaCommand,
  deltaOptions,
  landscapeCommand,
  landscapeOptions,
  mergeCommand,
  mergeOptions,
  sufficiencyCommand,
  sufficiencyOptions,
} from "./cli/analysis_commands.ts";
import { lossesCommand, lossesOptions } from "./cli/losses_command.ts";
import {
  experimentCommand,
  experimentCommandOptions,
  EXPERIMENTS,
  experimentSummary,
} from "./cli/experiment_commands.ts";

interface Command {
  summary: string;
  options: OptionSet;
  // deno-lint-ignore no-explicit-any
  run: (parsed: any) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  ...Object.fromEntries(EXPERIMENTS.map((name) => [name, {
    summary: experimentSummary(name),
    options: experimentCommandOptions(name, [name]),
    run: (o: unknown) => experimentCommand(name, [name], o as never),
  }])),
  all: {
    summary: experimentSummary("all"),
    options: experimentCommandOptions("all", EXPERIMENTS),
    run: (o) => experimentCommand("all", [...EXPERIMENTS], o),
  },
  report: {
    summary: experimentSummary("report"),
    options: experimentCommandOptions("report", []),
    run: (o) => experimentCommand("report", [], o),
  },
  train: {
    summary:
      "Train a model (Adam, cross-entropy), keep the best validation epoch, report test accuracy.",
    options: trainOptions,
    run: trainCommand,
  },
  landscape: {
    summary:
      "2D loss landscape and width of a trained model (--checkpoint) on its training split's --split samples.",
    options: landscapeOptions,
    run: landscapeCommand,
  },
  delta: {
    summary:
      "Δk curve of a trained model (--checkpoint) with its fitted rate, over its training split's --split samples.",
    options: deltaOptions,
    run: deltaCommand,
  },
  sufficiency: {
    summary:
      "Smallest k with Δk below --threshold for a trained model (--checkpoint), on its --split samples.",
    options: sufficiencyOptions,
    run: sufficiencyCommand,
  },
  losses: {
    summary:
      "Each --split sample's loss under a trained model (--checkpoint): losses.csv with index (in the dataset's file), label, loss, correct.",
    options: lossesOptions,
    run: lossesCommand,
  },
  merge: {
    summary:
      "Combine the shards (--shard i/n) of a landscape, delta, sufficiency or experiment run.",
    options: mergeOptions,
    run: mergeCommand,
  },
};

const PROGRAM = "deno task experiment";

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `Usage: ${PROGRAM} COMMAND [options]\n\nCommands:\n${rows.join("\n")}\n\n` +
    `Run '${PROGRAM} COMMAND --help' for the options of a command.\n`;
}

/** Runs the command line `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`error: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(`Usage: ${PROGRAM} ${name} [options]`, command.summary, command.options));
    return 0;
  }
  forgetOutDirs();
  try {
    const code = await command.run(parseOptions(rest, command.options));
    if (code !== 0) await removeEmptyOutDirs();
    return code;
  } catch (e) {
    await removeEmptyOutDirs();
    if (e instanceof CliError) {
      console.error(`error: ${e.message}\nRun '${PROGRAM} ${name} --help' for usage.`);
      return 2;
    }
    if (e instanceof NoAdapterError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    const verbose = rest.includes("--verbose");
    console.error(`error: ${verbose ? (e as Error).stack : (e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

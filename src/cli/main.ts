// The `seam` command line: dispatches to one module per command.
import { nativeInfo } from '../native.js';
import { UsageError } from './args.js';
import { BENCH_MODEL_USAGE, benchModelCommand } from './bench-model.js';
import { EXPORT_USAGE, exportCommand } from './export.js';
import { DEFECT_USAGE, defectCommand } from './defect.js';
import { inspectCommand } from './inspect.js';
import { QUEUE_USAGE, queueCommand } from './queue.js';
import { REENGINEER_USAGE, reengineerCommand } from './reengineer.js';
import { runCommand } from './run.js';
import { WORKER_USAGE, workerCommand } from './worker.js';

const USAGE = `seam: re-engineer trained CNNs with SeaM (learn a binary weight mask for a target problem)

commands:
  ${REENGINEER_USAGE}
  ${EXPORT_USAGE}
  ${BENCH_MODEL_USAGE}
  ${DEFECT_USAGE}
  seam inspect FILE [--arch NAME] [--json]
  seam run --model FILE [--arch NAME] --input IN.safetensors --output OUT.safetensors
  seam info
  ${QUEUE_USAGE}
  ${WORKER_USAGE}
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  reengineer: reengineerCommand,
  export: exportCommand,
  'bench-model': benchModelCommand,
  defect: defectCommand,
  inspect: inspectCommand,
  run: runCommand,
  queue: queueCommand, // BullMQ and ioredis are loaded when a queue command runs, not before
  worker: workerCommand,
  info: async () => {
    console.log(JSON.stringify(nativeInfo()));
    return 0;
  },
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    process.stderr.write(`seam: unknown command "${cmd}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`seam ${cmd}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`seam ${cmd}: ${e.message}\n`);
    if (process.env.SEAM_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

// The `seam` command line: dispatches to one module per command; `seam COMMAND --help` describes each.
import { UsageError } from './args.js';
import { BENCH_MODEL, benchModelCommand } from './bench-model.js';
import { COMPARE, compareCommand } from './compare.js';
import { nearest, synopsis, type CommandSpec } from './command.js';
import { DEFECT, defectCommand } from './defect.js';
import { EXPORT, exportCommand } from './export.js';
import { INFO, infoCommand } from './info.js';
import { INSPECT, inspectCommand } from './inspect.js';
import { QUEUE, queueCommand } from './queue.js';
import { REENGINEER, reengineerCommand } from './reengineer.js';
import { RUN, runCommand } from './run.js';
import { WORKER, workerCommand } from './worker.js';

const COMMANDS: [CommandSpec, (argv: string[]) => Promise<number>][] = [
  [REENGINEER, reengineerCommand], [EXPORT, exportCommand], [BENCH_MODEL, benchModelCommand], [COMPARE, compareCommand], [DEFECT, defectCommand],
  [INSPECT, inspectCommand], [RUN, runCommand], [INFO, infoCommand],
  // many targets: BullMQ and ioredis are loaded when these run, not before
  [QUEUE, queueCommand], [WORKER, workerCommand],
];

const USAGE = `seam: re-engineer trained CNNs with SeaM (learn a binary weight mask for a target problem)

commands:
${COMMANDS.map(([s]) => `  ${s.name.padEnd(13)}${s.summary}\n  ${''.padEnd(13)}${synopsis(s)}`).join('\n')}

\`seam COMMAND --help\` lists a command's options with their defaults and an example.
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === 'help') return rest[0] ? main([rest[0], '--help']) : main(['--help']);
  const entry = COMMANDS.find(([s]) => s.name === cmd);
  if (!entry) {
    const near = nearest(cmd, COMMANDS.map(([s]) => s.name));
    process.stderr.write(`seam: unknown command "${cmd}"${near ? `; did you mean "${near}"?` : ''}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await entry[1](rest);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`seam ${cmd}: ${e.message}\n`);
    if (err instanceof UsageError) return 2;
    if (process.env.SEAM_DEBUG) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

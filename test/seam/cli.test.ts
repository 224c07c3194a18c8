// The `seam` command's own interface: every command answers --help and -h with its options, their
// defaults and an example (exit 0); an unknown option or command is named, with the nearest valid one.
import { describe, expect, it } from 'vitest';
import { BENCH_MODEL } from '../../src/cli/bench-model.js';
import { nearest, type CommandSpec } from '../../src/cli/command.js';
import { DEFECT } from '../../src/cli/defect.js';
import { EXPORT } from '../../src/cli/export.js';
import { INFO } from '../../src/cli/info.js';
import { INSPECT } from '../../src/cli/inspect.js';
import { QUEUE, QUEUE_ADD, QUEUE_RESULTS, QUEUE_STATUS } from '../../src/cli/queue.js';
import { REENGINEER } from '../../src/cli/reengineer.js';
import { RUN } from '../../src/cli/run.js';
import { WORKER } from '../../src/cli/worker.js';
import { runCli } from '../helpers/cli.js';

const SPECS: CommandSpec[] = [REENGINEER, EXPORT, BENCH_MODEL, DEFECT, INSPECT, RUN, INFO, QUEUE, QUEUE_ADD, QUEUE_STATUS, QUEUE_RESULTS, WORKER];

describe('seam COMMAND --help', () => {
  for (const spec of SPECS) {
    it(`${spec.name}: --help and -h list every option with its default, and an example; exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await runCli([...spec.name.split(' '), flag]); // `queue add` is a command and its subcommand
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain(`usage: seam ${spec.name}`);
        for (const [name, o] of Object.entries(spec.options)) {
          const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`);
          expect(line, `--${name} in the help of ${spec.name}`).toBeDefined();
          if (o.default) expect(r.stdout).toContain(`default: ${o.default}`);
        }
        expect(r.stdout).toMatch(new RegExp(`example:\\n  seam ${spec.name} `));
      }
    });
  }

  it('help wins over other arguments, and `seam help CMD` is the same text', async () => {
    const a = await runCli(['export', '--model', 'x.pt', '--bogus', '-h']);
    const b = await runCli(['help', 'export']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toBe(b.stdout);
    expect((await runCli(['--help'])).stdout).toMatch(/`seam COMMAND --help`/);
  });
});

describe('usage errors', () => {
  it('an unknown option names the command and the nearest valid option; exit 2', async () => {
    const r = await runCli(['export', '--fromat', 'onnx']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^seam export: unknown option --fromat; did you mean --format\? \(seam export --help lists the options\)/);
    const e = await runCli(['reengineer', '--epoch', '3']);
    expect(e.stderr).toMatch(/^seam reengineer: unknown option --epoch; did you mean --epochs\?/);
    const far = await runCli(['inspect', 'model.pt', '--zzzzzzzz']);
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/^seam inspect: unknown option --zzzzzzzz \(seam inspect --help/);
  });

  it('an unknown command suggests the nearest one; missing options are named', async () => {
    const r = await runCli(['exprot']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^seam: unknown command "exprot"; did you mean "export"\?/);
    const m = await runCli(['export', '--model', 'm.pt']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/^seam export: missing --model, --masks or --out \(--masks, --out not given\)/);
  });

  it('nearest: edit distance or a prefix, nothing when far', () => {
    expect(nearest('lr-msak', ['lr-mask', 'lr-head'])).toBe('lr-mask');
    expect(nearest('batch', ['batch-size', 'seed'])).toBe('batch-size');
    expect(nearest('device', ['model', 'data'])).toBeNull();
  });
});

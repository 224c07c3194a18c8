// A vitest reporter that ends the run with the list of skipped tests. Every skip in this suite says
// why in its title (no GPU, a file of ../shared missing, onnxruntime not installed...), so the list
// is also the list of reasons.
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests('skipped')) lines.push(`  ${relative(process.cwd(), m.moduleId)}: ${t.fullName}`);
    }
    if (lines.length) process.stdout.write(`\nSkipped ${lines.length} test(s), each title says why:\n${lines.join('\n')}\n`);
  }
}

// A vitest reporter that ends the run with the list of skipped tests. Every skip in this suite says
// why in its title or its suite's title (no GPU, a file of ../shared missing, onnxruntime not
// installed...), so the list is also the list of reasons. A skipped suite is one line.
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    let count = 0;
    for (const m of modules) {
      const file = relative(process.cwd(), m.moduleId);
      const suites = new Map<string, number>();
      for (const t of m.children.allTests('skipped')) {
        count++;
        if (t.parent.type === 'suite' && t.parent.state() === 'skipped') suites.set(t.parent.fullName, (suites.get(t.parent.fullName) ?? 0) + 1);
        else lines.push(`  ${file}: ${t.fullName}`);
      }
      for (const [name, n] of suites) lines.push(`  ${file}: ${name} (${n} tests)`);
    }
    if (count) process.stdout.write(`\nSkipped ${count} test(s), each line says why:\n${lines.join('\n')}\n`);
  }
}

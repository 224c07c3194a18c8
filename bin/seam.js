#!/usr/bin/env node
// The `seam` command: runs the compiled CLI (npm's prepare step builds dist/).
import('../dist/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code ?? 0; })
  .catch((err) => { console.error(`seam: ${err?.message ?? err}`); process.exitCode = 1; });

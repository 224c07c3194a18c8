#!/usr/bin/env node
// The `seam` command: runs the compiled CLI (npm's prepare step builds dist/).
import { setFlagsFromString } from 'node:v8';

// V8 starts the old generation small and, under the CLI's stream of large tensor buffers, keeps
// re-running incremental marking: eager inference measured ~25% and a SeaM epoch ~10% slower.
// A 64 MB starting size (a start, not a cap) avoids that; a heap size the user chose wins.
const heapFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
if (!/old-space-size|heap-size/.test(heapFlags)) setFlagsFromString('--initial-old-space-size=64');

import('../dist/cli.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code ?? 0; })
  .catch((err) => { console.error(`seam: ${err?.message ?? err}`); process.exitCode = 1; });

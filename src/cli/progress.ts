// Progress on stderr: a live bar (epoch, batch, loss, accuracy, ratio, ETA) on a terminal, and
// one line per epoch otherwise (logs, CI).
import type { SearchEvent } from '../seam/search.js';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const ss = String(Math.floor(s % 60)).padStart(2, '0');
  return h > 0 ? `${h}:${String(m % 60).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
};

export class SearchProgress {
  private readonly tty: boolean;
  private start = Date.now();
  private epochs = 0;
  private startEpoch = 0;
  private batches = 1;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly quiet = false) {
    this.tty = Boolean(out.isTTY);
  }

  handle(e: SearchEvent): void {
    if (this.quiet) return;
    if (e.type === 'start') {
      this.epochs = e.epochs;
      this.startEpoch = e.startEpoch;
      this.batches = e.batchesPerEpoch;
      this.start = Date.now();
      this.out.write(`original accuracy on the problem: ${(100 * e.originalAccuracy).toFixed(2)}%` +
        `${e.startEpoch > 0 ? ` (resuming at epoch ${e.startEpoch})` : ''}\n`);
    } else if (e.type === 'batch' && this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && e.batch !== e.batches) return;
      this.lastDraw = now;
      const done = (e.epoch - this.startEpoch) * this.batches + e.batch;
      const total = (this.epochs - this.startEpoch) * this.batches;
      const eta = ((now - this.start) / 1000 / done) * (total - done);
      const width = 24;
      const fill = Math.round((e.batch / e.batches) * width);
      this.out.write(`\repoch ${e.epoch} [${e.epoch + 1}/${this.epochs}] [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${e.batch}/${e.batches}` +
        ` loss ${e.loss.toFixed(4)} acc ${(100 * e.accuracy).toFixed(1)}% kept ${(100 * e.ratio).toFixed(2)}% ETA ${fmtTime(eta)}\x1b[K`);
    } else if (e.type === 'epoch') {
      const l = e.log;
      if (this.tty) this.out.write('\r\x1b[K');
      this.out.write(`epoch ${l.epoch} [${l.epoch + 1}/${this.epochs}] (${l.phase}) loss ${l.trainLoss.toFixed(4)} train ${(100 * l.trainAccuracy).toFixed(2)}%` +
        ` test ${(100 * l.accuracy).toFixed(2)}% kept ${(100 * l.ratio).toFixed(2)}% sparse fwd ${(100 * (l.sparseForward ?? 0)).toFixed(0)}%` +
        ` ${l.seconds.toFixed(1)}s${l.selected ? ' *' : ''}\n`);
    }
  }
}

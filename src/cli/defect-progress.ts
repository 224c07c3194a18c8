// Progress of `seam defect` on stderr: one line per stage and per epoch, a live batch counter on a
// terminal, the search's epochs through the search progress printer.
import type { DefectEvent } from '../seam/defect.js';
import { SearchProgress } from './progress.js';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export class DefectProgress {
  private readonly tty: boolean;
  private readonly search: SearchProgress;
  private epochs = 0;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly quiet = false) {
    this.tty = Boolean(out.isTTY);
    this.search = new SearchProgress(out, quiet);
  }

  handle(e: DefectEvent): void {
    if (this.quiet) return;
    if (e.type === 'stage') {
      this.out.write(`== ${e.message}\n`);
    } else if (e.type === 'search') {
      this.search.handle(e.event);
    } else if (e.type === 'attack') {
      if (this.tty) this.out.write(`\rattack: ${e.done}/${e.total} samples\x1b[K${e.done === e.total ? '\n' : ''}`);
      else if (e.done === e.total) this.out.write(`attack: ${e.total} samples crafted\n`);
    } else {
      const ev = e.event;
      if (ev.type === 'start') {
        this.epochs = ev.epochs;
        this.out.write(`${e.stage}: validation accuracy before fine-tuning ${pct(ev.initialAccuracy)}\n`);
      } else if (ev.type === 'batch' && this.tty) {
        const now = Date.now();
        if (now - this.lastDraw < 100 && ev.batch !== ev.batches) return;
        this.lastDraw = now;
        this.out.write(`\r${e.stage} epoch ${ev.epoch + 1}/${this.epochs} ${ev.batch}/${ev.batches} loss ${ev.loss.toFixed(4)} acc ${(100 * ev.accuracy).toFixed(1)}%\x1b[K`);
      } else if (ev.type === 'epoch') {
        const l = ev.log;
        if (this.tty) this.out.write('\r\x1b[K');
        this.out.write(`${e.stage} epoch ${l.epoch + 1}/${this.epochs} loss ${l.trainLoss.toFixed(4)} train ${pct(l.trainAccuracy)} val ${pct(l.accuracy)} ` +
          `${l.seconds.toFixed(1)}s${l.best ? ' *' : ''}\n`);
      }
    }
  }
}

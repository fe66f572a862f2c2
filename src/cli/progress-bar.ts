/**
 * A one-line progress display for stderr: a bar when the total is known, a counter otherwise.
 * Redraws at most every 100 ms (terminal writes are slow next to a fast scan) and clears its line
 * when done, so stdout (where an SBOM may be going) is never touched.
 */
import type { Writable } from 'node:stream';

export class ProgressBar {
  private total = 0;
  private done = 0;
  private unit: 'bytes' | 'files' = 'bytes';
  private label = '';
  private last = 0;
  private drawn = false;

  constructor(
    private readonly out: Writable,
    private readonly width = 30,
  ) {}

  expect(units: number, unit: 'bytes' | 'files'): void {
    this.total += units;
    this.unit = unit;
    this.draw(true);
  }

  advance(units: number): void {
    this.done += units;
    this.draw(false);
  }

  phase(label: string): void {
    this.label = label;
    this.draw(true);
  }

  private fmt(n: number): string {
    if (this.unit === 'files') return `${n} files`;
    if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
    if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
    return `${Math.round(n / 1024)} KiB`;
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    let line: string;
    if (this.total > 0) {
      const frac = Math.min(1, this.done / this.total);
      const fill = Math.round(frac * this.width);
      line = `[${'#'.repeat(fill)}${'-'.repeat(this.width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${this.fmt(this.done)}/${this.fmt(this.total)}`;
    } else {
      line = `${this.fmt(this.done)}`;
    }
    if (this.label) line += ` ${this.label}`;
    this.out.write(`\r\x1b[2K${line.slice(0, 160)}`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}

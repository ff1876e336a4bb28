// The local stack's journal of labels answered before their sample head was written (domain/label-completions.ts):
// a file in the data folder, one JSON line per event, appended synchronously before the label's answer goes out.
// A line is with the operating system once write() returns, so it survives the process being killed (SIGKILL) the
// way the emulator's own writes do (neither forces the disk on every write). The file is emptied whenever no label
// is open and it has grown past TRIM_BYTES, and at every start once the labels left open are completed.

import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { LabelJournal, PendingLabel } from '../domain/ports.js';

export const LABEL_JOURNAL_FILE = 'labels-in-flight.jsonl';
/** Past this size the file is emptied the next time no label is open (at ~150 bytes a label: every ~7k labels). */
const TRIM_BYTES = 1 << 20;

type Line = ({ open: number } & PendingLabel) | { close: number };

export class FileLabelJournal implements LabelJournal {
  private readonly fd: number;
  private bytes: number;
  private nextToken: number;
  private readonly openTokens = new Set<number>();

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
    this.bytes = fstatSync(this.fd).size;
    this.nextToken = Math.max(0, ...this.lines().map((l) => ('open' in l ? l.open : l.close))) + 1;
  }

  open(label: PendingLabel): number {
    const token = this.nextToken++;
    const { projectId, sampleId, version, labelerId, requestId } = label;
    this.append({ open: token, projectId, sampleId, version, labelerId, requestId });
    this.openTokens.add(token);
    return token;
  }

  close(token: number): void {
    if (!this.openTokens.delete(token)) return;
    this.append({ close: token });
    if (this.openTokens.size === 0 && this.bytes > TRIM_BYTES) this.truncate();
  }

  unfinished(): PendingLabel[] {
    const open = new Map<number, PendingLabel>();
    for (const line of this.lines()) {
      if ('close' in line) open.delete(line.close);
      else {
        const { open: token, ...label } = line;
        open.set(token, label);
      }
    }
    return [...open.values()];
  }

  clear(): void {
    this.openTokens.clear();
    this.truncate();
  }

  /** Closes the file (the stack's stop). */
  release(): void {
    closeSync(this.fd);
  }

  private append(line: Line): void {
    const text = `${JSON.stringify(line)}\n`;
    this.bytes += writeSync(this.fd, text);
  }

  private truncate(): void {
    ftruncateSync(this.fd, 0);
    this.bytes = 0;
  }

  /** Every whole line of the file; a line cut short (the machine stopped mid-write) or not ours is skipped. */
  private lines(): Line[] {
    const out: Line[] = [];
    for (const text of readFileSync(this.file, 'utf8').split('\n')) {
      if (!text) continue;
      try {
        const line = JSON.parse(text) as Line;
        if ('close' in line ? Number.isInteger(line.close) : isPending(line)) out.push(line);
      } catch {
        // cut short
      }
    }
    return out;
  }
}

function isPending(line: Partial<{ open: number } & PendingLabel>): boolean {
  return (
    Number.isInteger(line.open) &&
    typeof line.projectId === 'string' &&
    typeof line.sampleId === 'string' &&
    Number.isInteger(line.version) &&
    typeof line.labelerId === 'string' &&
    typeof line.requestId === 'string'
  );
}

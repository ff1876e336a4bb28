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
  private nextToken = 1;
  /** Labels open in the file, by token: those a dead process left (read once, here) and this process's own. */
  private readonly openLabels = new Map<number, PendingLabel>();

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
    this.bytes = fstatSync(this.fd).size;
    for (const line of linesOf(file)) {
      if ('close' in line) {
        this.openLabels.delete(line.close);
        this.nextToken = Math.max(this.nextToken, line.close + 1);
      } else {
        const { open: token, ...label } = line;
        this.openLabels.set(token, label);
        this.nextToken = Math.max(this.nextToken, token + 1);
      }
    }
  }

  open(label: PendingLabel): number {
    const token = this.nextToken++;
    const { projectId, sampleId, version, labelerId, requestId } = label;
    const entry = { projectId, sampleId, version, labelerId, requestId };
    this.append({ open: token, ...entry });
    this.openLabels.set(token, entry);
    return token;
  }

  close(token: number): void {
    if (!this.openLabels.delete(token)) return;
    this.append({ close: token });
    if (this.openLabels.size === 0 && this.bytes > TRIM_BYTES) this.truncate();
  }

  unfinished(): PendingLabel[] {
    return [...this.openLabels.values()];
  }

  clear(): void {
    this.openLabels.clear();
    this.truncate();
  }

  /** Closes the file (the stack's stop). */
  release(): void {
    closeSync(this.fd);
  }

  private append(line: Line): void {
    this.bytes += writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  private truncate(): void {
    ftruncateSync(this.fd, 0);
    this.bytes = 0;
  }
}

/** Every whole line of the file; a line cut short (the machine stopped mid-write) or not ours is skipped. */
function linesOf(file: string): Line[] {
  const out: Line[] = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
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

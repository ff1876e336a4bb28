// "My session": how many labels this visit of the labeling view gave, for how long, and at what rate.

import { createSignal, onCleanup } from 'solid-js';

/** Labels per hour, from `count` labels over `ms` (at least a minute, so the first labels do not read as thousands). */
export function labelsPerHour(count: number, ms: number): number {
  return Math.round((count * 3_600_000) / Math.max(ms, 60_000));
}

/** "45 s", "12 min", "1 h 05 min". */
export function formatSpent(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

export function SessionSummary(props: { labeledAt: number[] }) {
  const started = Date.now();
  const [now, setNow] = createSignal(started);
  const timer = setInterval(() => setNow(Date.now()), 15_000);
  onCleanup(() => clearInterval(timer));
  const spent = () => Math.max(now(), props.labeledAt[props.labeledAt.length - 1] ?? 0) - started;
  const count = () => props.labeledAt.length;
  return (
    <p class="session-summary muted" data-testid="session-summary">
      This session: <strong data-testid="session-count">{count()}</strong> label{count() === 1 ? '' : 's'} ·{' '}
      <span data-testid="session-time">{formatSpent(spent())}</span>
      {count() > 0 ? <> · <span data-testid="session-rate">{labelsPerHour(count(), spent())}</span>/hour</> : ''}
    </p>
  );
}

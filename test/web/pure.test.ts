// @vitest-environment jsdom
// Small pure pieces of the web app: the confidence draft, label wording, routes, the virtual window, the
// project form.
import { describe, expect, it } from 'vitest';
import type { projectQuality } from '../../functions/domain/quality.js';
import { normalizeQuality } from '../../web/src/api/api.js';
import { cycleLevel, describeLabel, emptyDraft, toggleClass } from '../../web/src/labeling/labels.js';
import { hrefFor, parseRoute } from '../../web/src/shared/router.js';
import { projectFromForm } from '../../web/src/views/CreateProject.js';
import { visibleRange } from '../../web/src/shared/virtual.js';

const single = { confidenceLevels: [0, 0.25, 0.5, 0.75, 1], taskType: 'single-label' as const };

describe('confidence levels', () => {
  it('cycles a class through the project levels and wraps to 0', () => {
    let d = emptyDraft(3);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      d = cycleLevel(single, d, 1);
      seen.push(d.confidences[1]);
    }
    expect(seen).toEqual([0.25, 0.5, 0.75, 1, 0]);
  });

  it('never lets single-label confidences sum above 1', () => {
    let d = { confidences: [0.75, 0, 0], ambiguous: false };
    d = cycleLevel(single, d, 1);
    expect(d.confidences).toEqual([0.75, 0.25, 0]);
    d = cycleLevel(single, d, 1); // 0.5 would make 1.25: wraps to 0
    expect(d.confidences).toEqual([0.75, 0, 0]);
    // Multi-label classes are independent.
    expect(cycleLevel({ ...single, taskType: 'multi-label' }, { confidences: [1, 0.75], ambiguous: false }, 1).confidences).toEqual([1, 1]);
  });

  it('toggles multi-label classes on and off', () => {
    const d = toggleClass(single, emptyDraft(2), 0);
    expect(d.confidences).toEqual([1, 0]);
    expect(toggleClass(single, d, 0).confidences).toEqual([0, 0]);
  });

  it('describes a label in words', () => {
    expect(describeLabel({ confidences: [0, 1, 0], ambiguous: false }, ['daisy', 'rose', 'tulip'])).toBe('rose');
    expect(describeLabel({ confidences: [0.25, 0.75, 0], ambiguous: true }, ['daisy', 'rose', 'tulip'])).toBe(
      'rose 75% · daisy 25% · ambiguous',
    );
  });
});

describe('routes', () => {
  it('round-trips every view', () => {
    for (const r of [
      { name: 'home' },
      { name: 'new-project' },
      { name: 'label', projectId: 'flowers' },
      { name: 'upload', projectId: 'a_b-1' },
      { name: 'gallery', projectId: 'x' },
      { name: 'settings', projectId: 'x' },
    ] as const) {
      expect(parseRoute(hrefFor(r))).toEqual(r);
    }
    expect(parseRoute('')).toEqual({ name: 'home' });
    expect(parseRoute('#/projects/flowers')).toEqual({ name: 'label', projectId: 'flowers' });
    expect(parseRoute('#/nope')).toEqual({ name: 'not-found', path: '/nope' });
  });
});

describe('virtual grid window', () => {
  it('renders only the rows on screen plus an overscan', () => {
    const w = visibleRange({ scrollTop: 10_000, viewportHeight: 600, rowHeight: 100, columns: 5, count: 100_000, overscanRows: 2 });
    expect(w.start).toBe(98 * 5);
    expect(w.end).toBe(108 * 5);
    expect(w.padTop).toBe(9_800);
    expect(w.totalHeight).toBe(20_000 * 100);
    expect(w.padTop + (w.end - w.start) / 5 * 100 + w.padBottom).toBe(w.totalHeight);
  });

  it('handles the end of the list and empty lists', () => {
    const w = visibleRange({ scrollTop: 900, viewportHeight: 600, rowHeight: 100, columns: 3, count: 31 });
    expect(w.end).toBe(31);
    expect(w.padBottom).toBe(0);
    expect(visibleRange({ scrollTop: 0, viewportHeight: 600, rowHeight: 100, columns: 3, count: 0 })).toMatchObject({ start: 0, end: 0 });
  });
});

describe('create-project form', () => {
  const base = { id: 'flowers', name: '', classes: 'daisy, rose\ntulip', taskType: 'single-label', levels: '', allowAmbiguous: true, strategy: '', overlap: '' };

  it('builds the API body, leaving server defaults alone', () => {
    expect(projectFromForm(base).project).toEqual({
      id: 'flowers',
      name: 'flowers',
      classes: ['daisy', 'rose', 'tulip'],
      taskType: 'single-label',
      allowAmbiguous: true,
    });
    expect(projectFromForm({ ...base, levels: '1, 0, 0.5', overlap: '2' }).project).toMatchObject({
      confidenceLevels: [0, 0.5, 1],
      overlap: 2,
    });
  });

  it('names the fields to fix', () => {
    const { project, errors } = projectFromForm({ ...base, id: 'Bad Id', classes: 'a, a', levels: '2', overlap: '0', auditRate: '10' });
    expect(project).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['auditRate', 'classes', 'id', 'levels', 'overlap']);
    expect(projectFromForm({ ...base, auditRate: '0.2' }).project?.auditRate).toBe(0.2);
    expect(projectFromForm({ ...base, auditRate: '' }).project).not.toHaveProperty('auditRate');
  });
});

/** What GET /api/projects/:id/quality answers (the compiler holds these replies to it). */
type QualityReply = Awaited<ReturnType<typeof projectQuality>>;

const noEstimate: QualityReply['accuracy'] = {
  accuracy: null, low: null, high: null, n: 0, correct: 0, method: 'audit', scoredBy: 'at-lease', rate: 0.1, perClass: [],
};

function reply(over: Partial<QualityReply> = {}): QualityReply {
  return {
    model: { state: 'trained', message: 'trained on 120 labels (margin)', generation: 3, labels: 120, strategy: 'margin' },
    accuracy: noEstimate,
    count: 120,
    window: 50,
    mse: 0.3,
    errorRate: 0.5,
    windowErrorRate: 0.5,
    points: [],
    ...over,
  };
}

describe('live error data', () => {
  it('reads the per-point series the server sends', () => {
    const q = normalizeQuality(
      reply({
        points: [
          { index: 0, at: '2026-12-01T10:00:00.000Z', squaredError: 0.5, correct: false, runningMse: 0.5, runningErrorRate: 1, windowErrorRate: 1 },
          { index: 1, at: '2026-12-01T10:00:05.000Z', squaredError: 0.1, correct: true, runningMse: 0.3, runningErrorRate: 0.5, windowErrorRate: 0.5 },
        ],
      }),
    );
    expect(q).toMatchObject({
      points: [
        { mse: 0.5, correct: false },
        { mse: 0.1, correct: true },
      ],
      runningMse: [0.5, 0.3],
      runningError: [1, 0.5],
      count: 120,
      windowErrorRate: 0.5,
      window: 50,
    });
    // The error on served (hard) samples is never turned into an accuracy.
    expect(q.estimate).toBeUndefined();
  });

  it("reads the audit stream's accuracy estimate, and none without audited labels", () => {
    const perClass = [{ classIndex: 0, name: 'daisy', n: 3, correct: 3, accuracy: 1, low: 0.44, high: 1 }];
    const q = normalizeQuality(reply({ accuracy: { accuracy: 0.8, low: 0.6, high: 0.9, n: 10, correct: 8, method: 'audit', scoredBy: 'held-out', rate: 0.1, perClass } }));
    expect(q.estimate).toMatchObject({ accuracy: 0.8, low: 0.6, high: 0.9, n: 10, perClass: [{ name: 'daisy', n: 3, accuracy: 1, low: 0.44, high: 1 }] });
    expect(normalizeQuality(reply()).estimate).toBeUndefined();
  });
});

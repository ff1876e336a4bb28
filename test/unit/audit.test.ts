// The audit stream's estimator: what the accuracy figure on screen rests on.

import { describe, expect, it } from 'vitest';
import { auditIndex, auditRate, estimateAccuracy, inAuditSet, isAuditDraw, meanTopProbability, parseAuditRate, wilsonInterval, withUniformAuditRows, type AuditPoint } from '../../functions/domain/learning/audit.js';
import { createRng } from '../../functions/domain/learning/random.js';

describe('audit stream', () => {
  it('draws about 1 in 10 served samples by default, uniformly among the candidates', () => {
    const rng = createRng(1);
    const rand = () => rng.next();
    const rate = auditRate(undefined);
    expect(rate).toBe(0.1);
    let audits = 0;
    const hits = new Array(7).fill(0);
    for (let i = 0; i < 20_000; i++) {
      if (isAuditDraw(rand(), rate)) audits++;
      hits[auditIndex(rand(), 7)]++;
    }
    expect(audits / 20_000).toBeGreaterThan(0.09);
    expect(audits / 20_000).toBeLessThan(0.11);
    for (const h of hits) expect(Math.abs(h / 20_000 - 1 / 7)).toBeLessThan(0.01);
  });

  it('puts a fixed, uniform share of the collection in the audit set', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `${(i * 2654435761) % 1e9}`.padStart(9, '0') + `-b${i % 3}`);
    const share = ids.filter((id) => inAuditSet(id, 0.1)).length / ids.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect(ids.filter((id) => inAuditSet(id, 0.1)).every((id) => inAuditSet(id, 0.1))).toBe(true);
    expect(inAuditSet('s1', 0)).toBe(false);
    // Sequential ids are spread evenly too.
    const seq = Array.from({ length: 10_000 }, (_, i) => `s${i}`).filter((id) => inAuditSet(id, 0.1)).length;
    expect(seq).toBeGreaterThan(900);
    expect(seq).toBeLessThan(1100);
  });

  it('takes the rate from the project, else the deployment (WINNOW_AUDIT_RATE), and names a bad one', () => {
    expect(auditRate(0.25, parseAuditRate('0.5'))).toBe(0.25);
    expect(auditRate(undefined, parseAuditRate('0.5'))).toBe(0.5);
    expect(auditRate(undefined, parseAuditRate(' '))).toBe(0.1);
    expect(() => parseAuditRate('often')).toThrow(/WINNOW_AUDIT_RATE/);
    expect(() => parseAuditRate('2')).toThrow(/from 0 to 1/);
    expect(() => auditRate(2)).toThrow(/from 0 to 1/);
  });

  it('gives the Wilson interval', () => {
    const ci = wilsonInterval(8, 10);
    expect(ci.low).toBeCloseTo(0.4902, 3);
    expect(ci.high).toBeCloseTo(0.9433, 3);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('says nothing without audited labels and reports per class', () => {
    expect(estimateAccuracy([], 3).accuracy).toBeNull();
    const points: AuditPoint[] = [
      { predicted: 0, confidence: 0.9, labelClass: 0 },
      { predicted: 1, confidence: 0.6, labelClass: 2 },
      { predicted: 2, confidence: 0.7, labelClass: 2 },
    ];
    const e = estimateAccuracy(points, 3);
    expect(e).toMatchObject({ n: 3, correct: 2, method: 'audit' });
    expect(e.accuracy).toBeCloseTo(2 / 3, 9);
    expect(e.perClass.map((c) => [c.n, c.correct])).toEqual([[1, 1], [0, 0], [2, 1]]);
    expect(e.perClass[1].accuracy).toBeNull();
  });

  it('covers the true accuracy at least 90% of the time when the calibration is near, and follows the audits when it is far off', () => {
    // Synthetic model: confidence c ~ U(lo, 1), right with probability min(1, c + miscalibration) (calibrated at 0).
    // The model improves over time (the audits of earlier models were less sure); the estimate is asked about the
    // current one, whose confidences are U(0.6, 1).
    const rng = createRng(7);
    const rand = () => rng.next();
    const loNow = 0.6;
    const meanConfidence = (1 + loNow) / 2;
    const truthAt = (miscalibration: number) => {
      // E[min(1, c + m)] for c ~ U(loNow, 1).
      const knee = Math.max(loNow, 1 - miscalibration);
      return ((knee * knee - loNow * loNow) / 2 + miscalibration * (knee - loNow) + (1 - knee)) / (1 - loNow);
    };
    const run = (miscalibration: number, n: number) => {
      let covered = 0;
      let bias = 0;
      const trials = 2000;
      const truth = truthAt(miscalibration);
      for (let t = 0; t < trials; t++) {
        const points: AuditPoint[] = [];
        for (let i = 0; i < n; i++) {
          const lo = 0.3 + (0.3 * i) / n; // earlier models less sure
          const c = lo + (1 - lo) * rand();
          const right = rand() < Math.min(1, c + miscalibration);
          points.push({ predicted: 0, confidence: c, labelClass: right ? 0 : 1 });
        }
        const e = estimateAccuracy(points, 2, { meanConfidence });
        if (e.low! <= truth && truth <= e.high!) covered++;
        bias += e.accuracy! - truth;
      }
      return { coverage: covered / trials, bias: bias / trials };
    };
    // Within the prior's main part (calibration off by up to ~5 points, as measured on tf_flowers_dev): covered, and
    // never more than the miscalibration off.
    for (const miscalibration of [0, 0.05]) {
      for (const n of [5, 10, 20, 50]) {
        const { coverage, bias } = run(miscalibration, n);
        expect(coverage, `coverage n=${n} miscalibration=${miscalibration}`).toBeGreaterThanOrEqual(0.9);
        expect(Math.abs(bias), `bias n=${n} miscalibration=${miscalibration}`).toBeLessThanOrEqual(miscalibration + 0.01);
      }
    }
    // Far off (15 points): few audits move the figure little, so its interval is widened by the prior's wide part,
    // and more audits take it over.
    const far = [5, 20, 50, 200].map((n) => run(0.15, n));
    for (const f of far) expect(f.coverage).toBeGreaterThanOrEqual(0.85);
    expect(Math.abs(far[3].bias)).toBeLessThan(Math.abs(far[1].bias));
    expect(Math.abs(far[3].bias)).toBeLessThan(0.03);
  });

  it('takes the calibrated confidence for what it says until the audits contradict it, then follows them', () => {
    // Calibrated probabilities: 8 of 10 audits right at 0.8 confidence, the current model 0.88 sure on the audit set.
    const calibrated: AuditPoint[] = Array.from({ length: 10 }, (_, i) => ({ predicted: 0, confidence: 0.8, labelClass: i < 8 ? 0 : 1 }));
    const c = estimateAccuracy(calibrated, 2, { meanConfidence: 0.88 });
    expect(c.method).toBe('audit+confidence');
    expect(c.accuracy).toBeCloseTo(0.88, 9);
    // Flat probabilities (0.3) on a model right 9 times in 10: the audits say the level is far off, and the figure
    // moves most of the way to them, its interval holding the truth.
    const flat: AuditPoint[] = Array.from({ length: 10 }, (_, i) => ({ predicted: 0, confidence: 0.3, labelClass: i < 9 ? 0 : 1 }));
    const e = estimateAccuracy(flat, 2, { meanConfidence: 0.45 });
    expect(e.accuracy!).toBeGreaterThan(0.75);
    expect(e.low!).toBeLessThanOrEqual(0.9);
    expect(e.high!).toBeGreaterThanOrEqual(0.9);
    // Without the model's confidence: the audited share (Wilson interval).
    expect(estimateAccuracy(flat, 2)).toMatchObject({ method: 'audit', accuracy: 0.9 });
  });

  it('averages the top probability per row', () => {
    expect(meanTopProbability(new Float32Array([0.2, 0.8, 0.6, 0.4]), 2)).toBeCloseTo(0.7, 6);
    expect(meanTopProbability([], 2)).toBeNaN();
  });
});

describe('the audit set in a stored ranking', () => {
  it('keeps a uniform sample of the unlabeled audit set after the ranked head, however large the pool', () => {
    // 20,000 samples, a ranking of 2,000: the strategy's head is the first rows (here: the "most uncertain" are the
    // lowest row numbers). Audit draws must not come from that head only, or the accuracy figure reads low.
    const n = 20_000;
    const classes = 2;
    const sampleIds = Array.from({ length: n }, (_, i) => `img-${i}`);
    const probs = new Float32Array(n * classes).map((_, i) => (i % 2 === 0 ? Math.floor(i / 2) / n : 1 - Math.floor(i / 2) / n));
    const rows = Int32Array.from({ length: 2000 }, (_, i) => i);
    const labeled = new Set(Array.from({ length: 500 }, (_, i) => n - 1 - i * 7));
    const out = withUniformAuditRows({ rows, probs, classes, sampleIds, labeled, rate: 0.1, limit: 2000, auditRows: 400, seed: 3 });
    expect(out.rows.length).toBe(2000);
    const isAudit = (r: number) => inAuditSet(sampleIds[r], 0.1);
    const head = Array.from(out.rows.slice(0, 1600));
    const tail = Array.from(out.rows.slice(1600));
    expect(head.some(isAudit)).toBe(false); // ranked serving skips them anyway: the head keeps the others
    expect(tail.every(isAudit)).toBe(true);
    expect(tail.some((r) => labeled.has(r))).toBe(false);
    expect(new Set(tail).size).toBe(400);
    // Uniform over the pool: the mean row position is near the middle, not near the head (before: ~0.05).
    const before = Array.from(rows).filter(isAudit);
    expect(before.reduce((s, r) => s + r, 0) / before.length / n).toBeLessThan(0.06);
    const mean = tail.reduce((s, r) => s + r, 0) / tail.length / n;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    // Each row keeps its own probabilities.
    for (const i of [0, 1599, 1600, 1999]) expect(out.probs[i * classes]).toBeCloseTo(probs[out.rows[i] * classes], 6);
  });

  it('keeps every unlabeled audit-set sample when there are fewer than asked, and nothing when the rate is 0', () => {
    const sampleIds = Array.from({ length: 300 }, (_, i) => `s${i}`);
    const probs = new Float32Array(600).fill(0.5);
    const rows = Int32Array.from({ length: 300 }, (_, i) => i);
    const all = withUniformAuditRows({ rows, probs, classes: 2, sampleIds, labeled: new Set(), rate: 0.1, limit: 2000, auditRows: 400, seed: 1 });
    const audit = sampleIds.filter((id) => inAuditSet(id, 0.1)).length;
    expect(all.rows.length).toBe(300);
    expect(Array.from(all.rows.slice(300 - audit)).every((r) => inAuditSet(sampleIds[r], 0.1))).toBe(true);
    const none = withUniformAuditRows({ rows, probs, classes: 2, sampleIds, labeled: new Set(), rate: 0, limit: 2000, auditRows: 400, seed: 1 });
    expect(Array.from(none.rows)).toEqual(Array.from(rows));
  });
});

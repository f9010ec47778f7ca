import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HealthChange, IsoZone } from '../../src/contract/health.js';
import { MachineHealth } from '../../src/diagnose/health.js';
import { parseHealthConfig } from '../../src/diagnose/health-config.js';
import type { WindowDiagnosis } from '../../src/diagnose/types.js';
import { isFaultlineError } from '../../src/errors.js';

const T0 = Date.UTC(2025, 0, 1);
const DT = 1000; // one window per second

/** A window with fault probability p split over `cls`. */
function win(i: number, p: number, opts: { cls?: string; zone?: IsoZone; clip?: number } = {}) {
  const cls = opts.cls ?? 'inner';
  const probs: Record<string, number> = { normal: 1 - p, inner: 0, outer: 0, ball: 0 };
  probs[cls] = p;
  const d: WindowDiagnosis = {
    t: T0 + i * DT,
    probs,
    faultClass: p > 0.5 ? cls : 'normal',
    isoZone: opts.zone ?? 'A',
  };
  if (opts.clip !== undefined) d.clippedFraction = opts.clip;
  return d;
}

/** Feeds ps in order; returns the state after each window and all changes. */
function run(h: MachineHealth, ps: number[], start = 0, opts: Parameters<typeof win>[2] = {}) {
  const states: string[] = [];
  const changes: HealthChange[] = [];
  ps.forEach((p, j) => {
    const c = h.update(win(start + j, p, opts));
    if (c) changes.push(c);
    states.push(h.state);
  });
  return { states, changes };
}

describe('health state machine', () => {
  test('sustained fault escalates in the documented number of windows', () => {
    const h = new MachineHealth('pump-1');
    const { states, changes } = run(h, Array(8).fill(0.95));
    // warning needs 3/5 ≥ 0.7 (reached at window 3, skipping watch), alarm 4/5 ≥ 0.9.
    assert.deepEqual(states.slice(0, 5), ['ok', 'ok', 'warning', 'alarm', 'alarm']);
    assert.equal(changes.length, 2);
    assert.deepEqual(
      changes.map((c) => [c.from, c.to, c.t]),
      [
        ['ok', 'warning', T0 + 2 * DT],
        ['warning', 'alarm', T0 + 3 * DT],
      ],
    );
    assert.equal(changes[1].faultClass, 'inner');
    assert.ok(changes[1].confidence > 0.9 && changes[1].confidence <= 1);
    assert.match(changes[1].reason, /0\.90 in 4 of last 4 windows/);

    const mild = new MachineHealth('pump-2');
    const r = run(mild, Array(10).fill(0.6), 0, { cls: 'outer' });
    assert.equal(r.states[1], 'ok');
    assert.equal(r.states[2], 'watch');
    assert.equal(mild.state, 'watch', 'p = 0.6 never passes the warning threshold');
    assert.equal(r.changes.length, 1);
    assert.equal(r.changes[0].faultClass, 'outer');
  });

  test('flapping input does not flap the state', () => {
    const h = new MachineHealth('fan');
    // alternating fault / normal: 2 or 3 of any 5 windows above 0.95.
    const ps = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 0.97 : 0.05));
    const { states, changes } = run(h, ps);
    // At most one escalation (to warning: 3 of 5 at ≥ 0.7), never back down, never alarm.
    assert.ok(changes.length <= 1, `changes: ${JSON.stringify(changes.map((c) => c.to))}`);
    assert.ok(!states.includes('alarm'));
    assert.equal(h.state, 'warning');

    // A single outlier never raises anything.
    const h2 = new MachineHealth('fan2');
    const ps2 = Array.from({ length: 30 }, (_, i) => (i % 7 === 3 ? 0.99 : 0.05));
    assert.equal(run(h2, ps2).changes.length, 0);
    assert.equal(h2.state, 'ok');
  });

  test('recovery waits for the hysteresis and steps down through the exit thresholds', () => {
    const h = new MachineHealth('motor');
    run(h, Array(6).fill(0.95));
    assert.equal(h.state, 'alarm');
    // p = 0.6: below alarm exit (0.7) but above warning exit (0.5) → falls to warning after m=5.
    const mid = run(h, Array(8).fill(0.6), 6);
    assert.deepEqual(mid.states.slice(0, 5), ['alarm', 'alarm', 'alarm', 'alarm', 'warning']);
    assert.equal(h.state, 'warning');
    assert.equal(mid.changes.length, 1);
    assert.match(mid.changes[0].reason, /p < 0\.70 for 5 windows/);
    // A good window interrupted by one bad one restarts the count.
    const bumpy = run(h, [0.1, 0.1, 0.1, 0.1, 0.55, 0.1, 0.1, 0.1, 0.1], 14);
    assert.equal(bumpy.changes.length, 0, 'p 0.55 ≥ warning exit 0.5 restarts the count');
    const calm = run(h, [0.1], 23);
    assert.equal(calm.changes.length, 1);
    // All 5 windows are below every exit threshold → straight down to ok.
    assert.equal(h.state, 'ok');
    assert.equal(calm.changes[0].from, 'warning');
    assert.equal(calm.changes[0].faultClass, 'normal');
  });

  test('ISO 20816 zone raises severity on its own, and holds it', () => {
    const h = new MachineHealth('compressor');
    const c = run(h, [0.05, 0.05, 0.05, 0.05], 0, { zone: 'C' });
    assert.equal(h.state, 'warning', 'zone C in 3 of 5 → at least warning');
    assert.equal(c.changes[0].t, T0 + 2 * DT);
    assert.match(c.changes[0].reason, /zone C/);
    assert.equal(c.changes[0].faultClass, 'normal', 'the classifier sees no bearing fault');
    run(h, [0.05, 0.05, 0.05], 4, { zone: 'D' });
    assert.equal(h.state, 'alarm');
    // Back in zone B with healthy windows: alarm holds for m = 5 windows.
    const back = run(h, Array(6).fill(0.05), 7, { zone: 'B' });
    assert.deepEqual(back.states, ['alarm', 'alarm', 'alarm', 'alarm', 'ok', 'ok']);

    // Zone policy is configurable: zone C only to watch.
    const soft = new MachineHealth('soft', { zone: { C: 'watch' } });
    run(soft, [0.05, 0.05, 0.05], 0, { zone: 'C' });
    assert.equal(soft.state, 'watch');
  });

  test('silence → silent and back, keeping the fault level', () => {
    const h = new MachineHealth('pump', {}, T0);
    assert.equal(h.tick(T0 + 9_999), null);
    const s0 = h.tick(T0 + 10_000);
    assert.equal(s0?.to, 'silent', 'never-heard-from machine goes silent after silentAfterMs');
    run(h, Array(6).fill(0.95), 11);
    assert.equal(h.state, 'alarm');
    const lastT = T0 + 16 * DT;
    assert.equal(h.tick(lastT + 9_000), null);
    const s = h.tick(lastT + 10_000);
    assert.equal(s?.from, 'alarm');
    assert.equal(s?.to, 'silent');
    assert.equal(h.tick(lastT + 60_000), null, 'silent is entered once');
    assert.equal(h.snapshot().severity, 'alarm');
    const back = h.update(win(100, 0.95));
    assert.equal(back?.from, 'silent');
    assert.equal(back?.to, 'alarm', 'a sensor dropout does not clear an alarm');
    assert.match(back?.reason ?? '', /data resumed after/);
  });

  test('frames arrive but diagnoses stop (a hung worker) → silent; frames do not end it, a window does', () => {
    const h = new MachineHealth('fan', {}, T0);
    run(h, [0.05, 0.05, 0.05], 0);
    const lastWindow = T0 + 2 * DT;
    const frames = (t: number) => h.updateStream({ t, frames: 10, crcErrors: 0, gaps: 0 });
    // frames every second keep the data clock fresh: no plain silence
    let t = lastWindow;
    let change: HealthChange | null = null;
    while (!change && t < lastWindow + 120_000) {
      t += 1000;
      assert.equal(frames(t), null);
      change = h.tick(t);
    }
    assert.equal(change?.to, 'silent');
    assert.equal(t - lastWindow, 30_000, 'after stalledAfterMs (default 30 s)');
    assert.match(change?.reason ?? '', /frames arrive but no window was diagnosed for 30\.0 s/);
    assert.equal(frames(t + 1000), null, 'frames alone do not end a stalled silence');
    assert.equal(h.state, 'silent');
    const back = h.update(win(40, 0.05));
    assert.equal(back?.from, 'silent');
    assert.equal(back?.to, 'ok');
    assert.match(back?.reason ?? '', /diagnosis resumed after/);
  });

  test('no stall silence while the stream does not fit (stream-mismatch says it)', () => {
    const h = new MachineHealth('fan2', {}, T0);
    run(h, [0.05], 0);
    let t = T0;
    for (let k = 1; k <= 60; k++) {
      t = T0 + k * 1000;
      h.updateFit({ t, sensor: '1', misfit: 'sample rate 8000 Hz, model 12000 Hz' });
      h.tick(t);
    }
    assert.equal(h.state, 'stream-mismatch');
  });

  test('stream errors and saturation are stream states, hidden by a warning', () => {
    const h = new MachineHealth('belt');
    run(h, [0.05, 0.05], 0);
    // 10% of frames lost over the 30 s window, ≥ 20 frames.
    assert.equal(h.updateStream({ t: T0 + 3000, frames: 9, crcErrors: 1, gaps: 0 }), null);
    const e = h.updateStream({ t: T0 + 4000, frames: 18, crcErrors: 0, gaps: 2 });
    assert.equal(e?.to, 'stream-errors');
    assert.match(e?.reason ?? '', /10\.0% of frames/);
    // Clean link: the rate falls below 1% only once the bad intervals age out.
    assert.equal(h.updateStream({ t: T0 + 20_000, frames: 100, crcErrors: 0, gaps: 0 }), null);
    const ok = h.updateStream({ t: T0 + 34_500, frames: 400, crcErrors: 0, gaps: 0 });
    assert.equal(ok?.to, 'ok');

    const c = run(h, [0.05, 0.05, 0.05], 40, { clip: 0.01 });
    assert.equal(c.changes[0]?.to, 'saturated');
    // A real fault beneath the clipping is still shown once it reaches warning.
    const f = run(h, [0.95, 0.95, 0.95], 43, { clip: 0.01 });
    assert.equal(h.state, 'warning');
    assert.equal(f.changes[0].from, 'saturated');
    assert.equal(h.snapshot().saturated, true);
  });

  test('stream-mismatch: blocks that keep not fitting show with the reason, and clear by themselves', () => {
    const h = new MachineHealth('press');
    run(h, [0.05, 0.05], 0);
    const t = T0 + 2 * DT;
    const bad = (dt: number, why = 'sample rate 500 Hz cannot be brought to 12000 Hz') =>
      h.updateFit({ t: t + dt, sensor: '7', misfit: why });
    // One odd block (a rate change) never shows; nor do misfits for less than mismatchAfterMs (5 s).
    assert.equal(bad(0), null);
    assert.equal(h.updateFit({ t: t + 100, sensor: '7', misfit: null }), null);
    for (let dt = 200; dt < 5_200; dt += 500) assert.equal(bad(dt), null, `${dt} ms`);
    const on = bad(5_200);
    assert.equal(on?.from, 'ok');
    assert.equal(on?.to, 'stream-mismatch');
    assert.match(on?.reason ?? '', /^sensor 7: no block fitted for 5\.0 s: sample rate 500 Hz/);
    const snap = h.snapshot();
    assert.equal(snap.state, 'stream-mismatch');
    assert.equal(snap.streamMismatch, true);
    assert.equal(snap.mismatch?.sensor, '7');
    assert.match(snap.reason ?? '', /^sensor 7: sample rate 500 Hz/);
    // Misfit blocks are data: the machine is not silent (10 s after the last window).
    assert.equal(bad(9_000), null);
    assert.equal(h.tick(t + 18_000), null);
    assert.equal(bad(18_500, 'reads channel 2 but the block has 1'), null);
    assert.match(h.snapshot().reason ?? '', /channel 2/, 'the snapshot follows the latest reason');
    // The first block that fits clears it.
    const off = h.updateFit({ t: t + 19_000, sensor: '7', misfit: null });
    assert.equal(off?.to, 'ok');
    assert.match(off?.reason ?? '', /sensor 7: blocks fit again/);
    assert.equal(h.snapshot().streamMismatch, false);
    assert.equal(h.snapshot().mismatch, undefined);
    assert.throws(
      () => h.updateFit({ t: Number.NaN, sensor: '7', misfit: null }),
      (e) => isFaultlineError(e, 'FL_ERR_DIAGNOSIS_INPUT'),
    );
  });

  test('stream-mismatch hides an alarm when nothing is diagnosed, not while another sensor still is', () => {
    const h = new MachineHealth('mill', { mismatchAfterMs: 2_000 });
    run(h, Array(6).fill(0.95), 0);
    assert.equal(h.state, 'alarm');
    const t = T0 + 6 * DT;
    // The only sensor stops fitting: nothing left to judge, like silent; the level is kept.
    h.updateFit({ t, sensor: '1', misfit: 'rate' });
    const c = h.updateFit({ t: t + 2_000, sensor: '1', misfit: 'rate' });
    assert.equal(c?.from, 'alarm');
    assert.equal(c?.to, 'stream-mismatch');
    assert.equal(h.snapshot().severity, 'alarm');
    const back = h.updateFit({ t: t + 2_100, sensor: '1', misfit: null });
    assert.equal(back?.to, 'alarm', 'fitting blocks again: the alarm shows as it was');

    // Two sensors, one still delivering windows: the alarm it supports stays visible.
    const two = new MachineHealth('mill-2', { mismatchAfterMs: 2_000 });
    run(two, Array(6).fill(0.95), 0);
    for (let k = 0; k <= 4; k++) {
      two.updateFit({ t: T0 + (6 + k) * DT, sensor: '2', misfit: 'channel' });
      two.update(win(6 + k, 0.95));
    }
    assert.equal(two.state, 'alarm');
    assert.equal(two.snapshot().streamMismatch, true);
    assert.equal(two.snapshot().mismatch?.sensor, '2');
    // …but below warning the mismatch shows.
    const low = new MachineHealth('mill-3', { mismatchAfterMs: 2_000 });
    for (let k = 0; k <= 4; k++) {
      low.updateFit({ t: T0 + k * DT, sensor: '2', misfit: 'channel' });
      low.update(win(k, 0.05));
    }
    assert.equal(low.state, 'stream-mismatch');
  });

  test('deterministic, and bad input rejected with a code', () => {
    // Same input → same output.
    const a = run(new MachineHealth('x'), [0.2, 0.8, 0.9, 0.95, 0.3, 0.1, 0.99, 0.97]).changes;
    const b = run(new MachineHealth('x'), [0.2, 0.8, 0.9, 0.95, 0.3, 0.1, 0.99, 0.97]).changes;
    assert.deepEqual(a, b);

    const h = new MachineHealth('x');
    for (const bad of [
      { ...win(0, 0.5), t: Number.NaN },
      { ...win(0, 0.5), probs: { normal: Number.NaN } },
      { ...win(0, 0.5), probs: { normal: 2 } },
      { ...win(0, 0.5), isoZone: 'E' as IsoZone },
    ]) {
      assert.throws(
        () => h.update(bad),
        (e) => isFaultlineError(e, 'FL_ERR_DIAGNOSIS_INPUT'),
      );
    }
    assert.throws(
      () => h.updateStream({ t: 0, frames: -1, crcErrors: 0, gaps: 0 }),
      (e) => isFaultlineError(e, 'FL_ERR_DIAGNOSIS_INPUT'),
    );
    assert.equal(h.state, 'ok');
  });

  test('config: defaults, and an invalid option names its field', () => {
    const c = parseHealthConfig();
    assert.equal(c.windows, 5);
    assert.equal(c.mismatchAfterMs, 5_000);
    assert.throws(
      () => parseHealthConfig({ mismatchAfterMs: 0 }),
      (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /mismatchAfterMs/.test(e.message),
    );
    assert.equal(c.levels.alarm.enter, 0.9);
    assert.equal(parseHealthConfig({ levels: { alarm: { k: 5 } } }).levels.alarm.enter, 0.9);
    assert.throws(
      () => parseHealthConfig({ levels: { warning: { enter: 0.6, exit: 0.65 } } }),
      (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /levels\.warning\.exit/.test(e.message),
    );
    assert.throws(
      () => parseHealthConfig({ windows: 3 }),
      (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /alarm\.k/.test(e.message),
    );
    assert.throws(() => new MachineHealth(''), TypeError);
  });
});

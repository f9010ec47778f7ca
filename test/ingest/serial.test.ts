/**
 * Serial link end to end through a real pty pair made by socat:
 *   runSensorStream → serial sink (pty a) → kernel pty → SerialSource (pty b) → blocks
 * compared bit-exactly with what was encoded (int16 quantisation included).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import { SerialSource, serialOpenError } from '../../src/ingest/serial-source.js';
import { LinkFaultInjector, parseLinkFaultSpec } from '../../src/sim/fault-injection.js';
import { runSensorStream, type SentFrame } from '../../src/sim/sensor-stream.js';
import { openSerialSink } from '../../src/sim/sinks.js';
import { assertSameFrame, collect, frameKey, testSignal, waitFor } from '../support/links.js';
import { type PtyPair, startPtyPair } from '../support/socat.js';

const FAST = { initialMs: 50, maxMs: 400 };

describe('serial link through a socat pty pair', () => {
  let pty: PtyPair;
  before(async () => {
    pty = await startPtyPair();
  });
  after(async () => {
    await pty?.stop();
  });

  for (const format of ['int16', 'float32'] as const) {
    test(`${format}: two sensors arrive with exactly the samples sent`, async () => {
      const source = new SerialSource({ path: pty.b, backoff: FAST });
      await source.start();
      const sink = await openSerialSink({ path: pty.a });
      const sent: SentFrame[] = [];
      try {
        const nFrames = 30;
        const arrived = collect(source, 2 * nFrames);
        await runSensorStream({
          sensors: [
            { sensorId: 7, source: testSignal(1), rpm: 1797 },
            { sensorId: 8, source: testSignal(2), rpm: 1797 },
          ],
          sampleRate: 12_000,
          frameSamples: 256,
          format,
          speed: Number.POSITIVE_INFINITY,
          maxFrames: nFrames,
          sink,
          onFrame: (f) => sent.push(f),
        });
        const got = await arrived;
        const byKey = new Map(sent.map((f) => [frameKey(f.header.sensorId, f.header.seq), f]));
        for (const b of got) {
          const s = byKey.get(frameKey(b.sensorId, b.seq));
          assert.ok(s, `unexpected block ${b.sensorId}:${b.seq}`);
          assertSameFrame(b, s);
          assert.deepEqual(b.origin, { link: 'serial', path: pty.b });
          assert.equal(b.gap, 0);
        }
        if (format === 'int16') {
          // quantisation really happened, within half an LSB of the source signal
          const lsb = 16 / 32768;
          const orig = testSignal(1).next(256);
          const first = got.find((b) => b.sensorId === 7 && b.seq === 0);
          assert.ok(first);
          for (let i = 0; i < 256; i++)
            assert.ok(Math.abs(first.samples[i] - orig[i]) <= lsb / 2 + 1e-9);
        }
        const st = source.stats();
        assert.equal(st.blocks, 2 * nFrames);
        assert.equal(st.badFrames, 0);
        assert.equal(st.missingFrames, 0);
        assert.equal(st.state, 'connected');
        assert.ok(st.bytes > 2 * nFrames * 256 * (format === 'int16' ? 2 : 4));
      } finally {
        await sink.close();
        await source.close();
      }
    });
  }

  test('injected byte faults: every intact frame arrives exact, every corrupted one is counted bad', async () => {
    const source = new SerialSource({ path: pty.b, backoff: FAST });
    await source.start();
    const sink = await openSerialSink({ path: pty.a });
    const faults = new LinkFaultInjector(
      parseLinkFaultSpec('bitflip=0.1,drop=0.05,dup=0.05,truncate=0.05'),
      42,
    );
    const sent: SentFrame[] = [];
    try {
      const nFrames = 200;
      const received = new Map<string, import('../../src/ingest/source.js').IngestedBlock>();
      source.on('data', (b) => received.set(frameKey(b.sensorId, b.seq), b));
      const res = await runSensorStream({
        sensors: [{ sensorId: 3, source: testSignal(3) }],
        sampleRate: 12_000,
        frameSamples: 128,
        speed: Number.POSITIVE_INFINITY,
        maxFrames: nFrames,
        sink,
        faults,
        onFrame: (f) => sent.push(f),
      });
      const intact = sent.filter((f) => f.faults.length === 0);
      assert.ok(
        res.corrupted > 10,
        `the seed should corrupt a fair number of frames, got ${res.corrupted}`,
      );
      assert.equal(res.corrupted, faults.counts().corrupted);
      await waitFor(() => received.size >= intact.length, `${intact.length} intact frames`);
      // a last corrupted packet is only rejected once the next delimiter arrives: all got theirs
      await waitFor(() => source.stats().badFrames >= res.corrupted, 'bad-frame count', 2000);
      for (const f of intact) {
        const b = received.get(frameKey(3, f.header.seq));
        assert.ok(b, `intact frame ${f.header.seq} missing`);
        assertSameFrame(b, f);
      }
      assert.equal(received.size, intact.length, 'a corrupted frame got through');
      const st = source.stats();
      // a bit flip may create a 0x00 inside a packet and split it in two bad pieces
      assert.ok(st.badFrames >= res.corrupted, `bad ${st.badFrames} < corrupted ${res.corrupted}`);
      assert.ok(st.badFrames <= res.corrupted + faults.counts().bitflip);
      // gaps: every corrupted frame that precedes an intact one is a missing sequence number
      let lastIntact = -1;
      for (const f of sent) if (f.faults.length === 0) lastIntact = f.header.seq;
      const missing = sent.filter((f) => f.faults.length > 0 && f.header.seq < lastIntact).length;
      assert.equal(st.missingFrames, missing);
      assert.equal(st.gaps['3'], missing);
    } finally {
      await sink.close();
      await source.close();
    }
  });

  test('unplug while nobody reads (the port paused by backpressure): the source still notices', async () => {
    // highWaterMark 1: the first block fills the source, the port is paused and reads nothing more
    const source = new SerialSource({ path: pty.b, backoff: FAST, highWaterMark: 1 });
    await source.start();
    const sink = await openSerialSink({ path: pty.a });
    try {
      const first = collect(source, 1);
      await runSensorStream({
        sensors: [{ sensorId: 4, source: testSignal(4) }],
        sampleRate: 12_000,
        frameSamples: 200,
        speed: Number.POSITIVE_INFINITY,
        maxFrames: 50,
        sink,
      });
      await first;
      source.pause();
      await waitFor(() => source.stats().blocks >= 3, 'blocks to fill the source', 60_000);
      await sink.close();
      await pty.kill();
      await waitFor(
        () => source.state === 'reconnecting',
        'the paused source to notice the unplug',
        60_000,
      );
      assert.ok(source.stats().lastError, 'why is kept for the stats');
    } finally {
      await source.close();
      await pty.restart();
    }
  });

  test('unplug and replug (socat killed and restarted): the source reconnects, resumes, counts the gap', async () => {
    const source = new SerialSource({ path: pty.b, backoff: FAST });
    const states: string[] = [];
    let tConnected = 0;
    source.on('state', (s) => {
      states.push(s);
      if (s === 'connected') tConnected = performance.now();
    });
    await source.start();
    let sink = await openSerialSink({ path: pty.a });
    const sent = new Map<number, SentFrame>();
    const stream = (firstSeq: number, n: number) =>
      runSensorStream({
        sensors: [{ sensorId: 9, source: testSignal(9) }],
        sampleRate: 12_000,
        frameSamples: 200,
        speed: Number.POSITIVE_INFINITY,
        maxFrames: n,
        firstSeq,
        t0Us: 1_700_000_000_000_000n + BigInt(firstSeq) * 1000n,
        sink,
        onFrame: (f) => sent.set(f.header.seq, f),
      });
    try {
      const first = collect(source, 20);
      await stream(0, 20);
      const before = await first;
      assert.equal(before.length, 20);

      await sink.close();
      const tKill = performance.now();
      await pty.kill();
      await waitFor(
        () => source.state === 'reconnecting',
        'the source to notice the unplug',
        60_000,
      );
      const tNoticed = performance.now();
      // the device stays away for a while; the source keeps retrying with backoff
      await new Promise((r) => setTimeout(r, 600));
      await pty.restart();
      const tBack = performance.now();
      await waitFor(() => source.state === 'connected', 'the source to reconnect', 60_000);
      process.stdout.write(
        `# serial: unplug noticed after ${(tNoticed - tKill).toFixed(0)} ms; device back ${(tBack - tKill).toFixed(0)} ms after the unplug; source reconnected ${(tConnected - tKill).toFixed(0)} ms after the unplug\n`,
      );

      // 10 frames (seq 20…29) were "sent while unplugged" and never arrive
      sink = await openSerialSink({ path: pty.a });
      const second = collect(source, 20);
      await stream(30, 20);
      const after = await second;
      for (const b of after) assertSameFrame(b, sent.get(b.seq) as SentFrame);
      assert.equal(after[0].seq, 30);
      assert.equal(after[0].gap, 10);
      const st = source.stats();
      assert.equal(st.reconnects, 1);
      assert.equal(st.gaps['9'], 10);
      assert.equal(st.blocks, 40);
      assert.ok(states.includes('reconnecting'));
    } finally {
      await sink.close();
      await source.close();
    }
  });
});

describe('serial open errors', () => {
  test('a missing device gives FL_ERR_SERIAL_OPEN naming the path and the way to list ports', async () => {
    const source = new SerialSource({ path: '/dev/faultline-no-such-tty' });
    await assert.rejects(source.start(), (err: unknown) => {
      assert.ok(isFaultlineError(err, 'FL_ERR_SERIAL_OPEN'), String(err));
      assert.match(err.message, /\/dev\/faultline-no-such-tty/);
      assert.match(err.message, /faultline ingest --list/);
      return true;
    });
    assert.equal(source.state, 'closed');
  });

  test('permission errors map to FL_ERR_SERIAL_PERMISSION mentioning dialout', () => {
    // the tests may run as root, where EACCES cannot be provoked: check the mapping itself
    const err = serialOpenError(
      '/dev/ttyUSB0',
      new Error('Error: Permission denied, cannot open /dev/ttyUSB0'),
    );
    assert.equal(err.code, 'FL_ERR_SERIAL_PERMISSION');
    assert.match(err.message, /dialout/);
    assert.match(err.message, /\/dev\/ttyUSB0/);
    const busy = serialOpenError(
      '/dev/ttyUSB0',
      new Error('Error Resource temporarily unavailable Cannot lock port'),
    );
    assert.equal(busy.code, 'FL_ERR_SERIAL_OPEN');
    assert.match(busy.message, /another program/);
  });

  test('waitForDevice: start() keeps retrying until the device appears', async () => {
    const pair = await startPtyPair();
    await pair.kill();
    const source = new SerialSource({ path: pair.b, waitForDevice: true, backoff: FAST });
    try {
      await source.start();
      assert.equal(source.state, 'reconnecting');
      await pair.restart();
      await waitFor(() => source.state === 'connected', 'the late device', 5000);
    } finally {
      await source.close();
      await pair.stop();
    }
  });

  test('bad options throw TypeError at construction', () => {
    assert.throws(() => new SerialSource({ path: '' }), TypeError);
    assert.throws(() => new SerialSource({ path: '/dev/x', baudRate: -5 }), TypeError);
  });
});

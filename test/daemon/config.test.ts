import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  gatewayConfigSchema,
  loadConfigFile,
  parseConfig,
  resolveStateDir,
} from '../../src/daemon/config.js';
import { DEFAULT_GATEWAY_CONFIG } from '../../src/daemon/defaults.js';
import { isFaultlineError } from '../../src/errors.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const machine = (id: string, sensor: number, sampleRate: unknown = 12000) => ({
  id,
  sensors: [{ id: sensor, sampleRate }],
});

function configError(input: unknown): string {
  try {
    parseConfig(input, 'gw.yaml');
  } catch (err) {
    assert.ok(isFaultlineError(err, 'FL_ERR_CONFIG'), `expected FL_ERR_CONFIG, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

test('a bad field is named by its path', () => {
  const base = { machines: [machine('a', 1), machine('b', 2), machine('c', 3, -5)] };
  assert.equal(
    configError(base),
    'gw.yaml: machines[2].sensors[0].sampleRate: expected a positive number',
  );
  assert.match(
    configError({ machines: [machine('a', 1, 'fast')] }),
    /machines\[0\]\.sensors\[0\]\.sampleRate: expected a positive number/,
  );
  assert.match(
    configError({ machines: [machine('a', 1)], http: { port: 70000 } }),
    /http\.port: expected a TCP port/,
  );
  assert.match(
    configError({ machines: [machine('a', 1)], htp: {} }),
    /^gw\.yaml: htp: unknown option/,
  );
  assert.match(
    configError({ machines: [{ ...machine('a', 1), iso: { group: 3 } }] }),
    /machines\[0\]\.iso\.group: expected machine group 1 or 2/,
  );
  assert.match(
    configError({ machines: [machine('a/b', 1)] }),
    /machines\[0\]\.id: machine name must not contain/,
  );
  assert.match(
    configError({ machines: [machine('a', 1), machine('a', 2)] }),
    /machines\[1\]\.id: machine id "a" is used twice/,
  );
  assert.match(
    configError({ machines: [machine('a', 1), machine('b', 1)] }),
    /machines\[1\]\.sensors\[0\]\.id: sensor id 1 is already used by a/,
  );
  assert.match(configError({ machines: [] }), /machines: configure at least one machine/);
  assert.match(
    configError({ machines: [machine('a', 1)], broker: { embedded: false } }),
    /broker\.url: set broker\.url/,
  );
  // the alert policy reuses the health schema and its cross-field checks
  assert.match(
    configError({
      machines: [machine('a', 1)],
      alerts: { levels: { watch: { enter: 0.2, exit: 0.5 } } },
    }),
    /alerts\.levels\.watch\.exit/,
  );
});

test('defaults fill every section and the result is deeply frozen', () => {
  const c = parseConfig({ machines: [machine('a', 1)] });
  assert.equal(c.site, 'site1');
  assert.deepEqual(c.machines[0].iso, { group: 2, foundation: 'rigid' });
  assert.equal(c.machines[0].sensors[0].channel, 0);
  assert.equal(c.broker.embedded, true);
  assert.equal(c.broker.host, '127.0.0.1');
  assert.equal(c.broker.port, 1883);
  assert.equal(c.http.port, 8080);
  assert.equal(c.http.host, '127.0.0.1');
  assert.equal(c.alerts.windows, 5);
  assert.equal(c.alerts.levels.alarm.enter, 0.9);
  assert.equal(c.influx, undefined, 'no InfluxDB unless configured');
  assert.equal(c.store.pointRetentionDays, 7);
  assert.equal(c.store.hourlyRetentionDays, 1826, 'hourly history for five years');
  assert.equal(c.adaptation.strategy, 'dann');
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.machines[0].sensors[0]));
  assert.ok(Object.isFrozen(c.alerts.levels.watch));
  assert.throws(() => {
    (c.http as { port: number }).port = 1;
  }, TypeError);
  const influx = parseConfig({ machines: [machine('a', 1)], influx: {} }).influx;
  assert.deepEqual(
    {
      host: influx?.host,
      port: influx?.port,
      database: influx?.database,
      retention: influx?.retention,
    },
    { host: '127.0.0.1', port: 8086, database: 'faultline', retention: '30d' },
  );
});

test('the embedded defaults are valid: healthy and faulty machines, one off the source conditions', () => {
  const c = parseConfig(DEFAULT_GATEWAY_CONFIG, 'embedded defaults');
  const faults = c.machines.map((m) => m.simulate?.fault);
  assert.ok(
    faults.includes('none') &&
      faults.includes('inner') &&
      faults.includes('outer') &&
      faults.includes('ball'),
  );
  assert.ok(c.machines.some((m) => m.simulate && m.simulate.condition !== 'source-1797rpm'));
});

test('every option of the schema has a default or is optional (only machines is required)', () => {
  const r = gatewayConfigSchema.safeParse({});
  assert.equal(r.success, false);
  assert.deepEqual(
    r.error?.issues.map((i) => i.path.join('.')),
    ['machines'],
  );
});

test('YAML files: valid, invalid YAML, missing file', async () => {
  const good = path.join(dir, 'good.yaml');
  await writeFile(
    good,
    'site: plant1\nmachines:\n  - id: pump3\n    sensors:\n      - { id: 7, sampleRate: 12000 }\n',
  );
  const c = await loadConfigFile(good);
  assert.equal(c.site, 'plant1');
  assert.equal(c.machines[0].sensors[0].id, 7);
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, 'machines: [\n');
  await assert.rejects(
    loadConfigFile(bad),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /not valid YAML/.test(e.message),
  );
  const badField = path.join(dir, 'bad-field.yaml');
  await writeFile(
    badField,
    'machines:\n  - id: p\n    sensors:\n      - { id: 1, sampleRate: 0 }\n',
  );
  await assert.rejects(
    loadConfigFile(badField),
    (e) =>
      isFaultlineError(e) &&
      e.message === `${badField}: machines[0].sensors[0].sampleRate: expected a positive number`,
  );
  await assert.rejects(
    loadConfigFile(path.join(dir, 'nope.yaml')),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /ENOENT/.test(e.message),
  );
});

test('the shipped example configuration is valid', async () => {
  const c = await loadConfigFile(
    path.resolve(import.meta.dirname, '..', '..', 'examples', 'gateway.yaml'),
  );
  assert.ok(c.machines.length >= 1);
});

test('state directory: config, then FAULTLINE_STATE_DIR, then ~/.faultline', () => {
  assert.equal(resolveStateDir({ stateDir: '/x/y' }, {}), '/x/y');
  assert.equal(resolveStateDir({}, { FAULTLINE_STATE_DIR: '/s' }), '/s');
  assert.equal(resolveStateDir({}, {}), path.join(os.homedir(), '.faultline'));
});

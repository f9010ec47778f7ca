/**
 * Secrets: passwords from `${ENV}` and `passwordFile` (systemd credentials,
 * containers); `gateway --check`, the start banner and `GET /api/gateway`
 * never show a password, a token or a URL's password; without a terminal
 * the banner names the token file instead of the token.
 *
 * The gateway runs as the CLI child (stdout a pipe, as under systemd) on a
 * real mosquitto that requires a password given in the broker URL.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { REDACTED, redactConfig, redactUrl } from '../../src/daemon/secrets.js';
import { isFaultlineError } from '../../src/errors.js';
import {
  type GatewayProcess,
  runCli,
  simModelDir,
  startGatewayProcess,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { writePasswordFile } from '../support/tls.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
const machines: GatewayConfigInput['machines'] = [
  { id: 'm1', sensors: [{ id: 1, sampleRate: 12_000 }], simulate: { fault: 'none' } },
];
/** `${NAME}` as written in a configuration file. */
const envRef = (name: string) => `$\{${name}}`;
let dir: string | undefined;
let mosq: Mosquitto | undefined;
let gw: GatewayProcess | undefined;

after(async () => {
  await gw?.stop();
  await mosq?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('passwords come from environment references and passwordFile; a missing one names its field', async () => {
  dir ??= await mkdtemp(path.join(os.tmpdir(), 'fl-sec-secrets-'));
  const file = path.join(dir, 'sensor-pass');
  await writeFile(file, 'from-a-file\n', { mode: 0o600 });
  process.env.FL_TEST_GW_PASSWORD = 'from-the-env';
  process.env.FL_TEST_CRED_DIR = dir;
  try {
    const c = parseConfig({
      machines,
      broker: {
        username: 'gw',
        password: `${envRef('FL_TEST_GW_PASSWORD')}`,
        users: [
          {
            username: 's1',
            passwordFile: `${envRef('FL_TEST_CRED_DIR')}/sensor-pass`,
            role: 'sensor',
            sensors: [1],
          },
        ],
      },
      http: { token: `prefix-${envRef('FL_TEST_GW_PASSWORD')}` },
    });
    assert.equal(c.broker.password, 'from-the-env');
    assert.equal(c.broker.users[0].password, 'from-a-file');
    assert.equal(c.http.token, 'prefix-from-the-env');
    assert.throws(
      () =>
        parseConfig({
          machines,
          broker: { username: 'gw', password: `${envRef('FL_TEST_UNSET_X')}` },
        }),
      (e: unknown) =>
        isFaultlineError(e, 'FL_ERR_CONFIG') &&
        /broker\.password: environment variable FL_TEST_UNSET_X is not set/.test(
          (e as Error).message,
        ),
    );
    assert.throws(
      () =>
        parseConfig({
          machines,
          broker: {
            username: 'gw',
            users: [
              { username: 'c', passwordFile: path.join(dir as string, 'nope'), role: 'console' },
            ],
          },
        }),
      /broker\.users\[0\]\.passwordFile: cannot read .*nope \(ENOENT\)/,
    );
  } finally {
    delete process.env.FL_TEST_GW_PASSWORD;
    delete process.env.FL_TEST_CRED_DIR;
  }
});

test('redaction: secrets and URL passwords, never file paths', () => {
  assert.equal(redactUrl('mqtt://gw:s3cret@host:1883/x'), `mqtt://gw:${REDACTED}@host:1883/x`);
  assert.equal(redactUrl('mqtt://host:1883'), 'mqtt://host:1883');
  const r = redactConfig({
    broker: {
      url: 'mqtts://u:p%40ss@h',
      password: 'p',
      passwordFile: '/run/cred/p',
      users: [{ password: 'q' }],
    },
    influx: { password: 'i' },
    http: { token: 't'.repeat(20) },
  });
  assert.deepEqual(r, {
    broker: {
      url: `mqtts://u:${REDACTED}@h`,
      password: REDACTED,
      passwordFile: '/run/cred/p',
      users: [{ password: REDACTED }],
    },
    influx: { password: REDACTED },
    http: { token: REDACTED },
  });
});

test('gateway --check prints the configuration with every secret redacted', async () => {
  dir ??= await mkdtemp(path.join(os.tmpdir(), 'fl-sec-secrets-'));
  const secrets = [
    'url-pass-1234',
    'broker-pass-5678',
    'influx-pass-9012',
    'token-abcdefghijklmnop',
  ];
  const file = await writeConfig(dir, {
    machines,
    broker: {
      embedded: false,
      url: `mqtt://gw:${secrets[0]}@127.0.0.1:1883`,
      username: 'gw',
      password: secrets[1],
    },
    influx: { password: secrets[2] },
    http: { token: secrets[3] },
  });
  const r = await runCli(['gateway', '--check', '--config', file]);
  assert.equal(r.code, 0, r.out);
  for (const s of secrets) assert.ok(!r.out.includes(s), `${s} leaked:\n${r.out}`);
  const printed = JSON.parse(r.out) as { broker: { url: string; password: string } };
  assert.equal(printed.broker.url, `mqtt://gw:${REDACTED}@127.0.0.1:1883`);
  assert.equal(printed.broker.password, REDACTED);
  // and an embedded broker open to the network without credentials: exit 2
  const open = await writeConfig(dir, { machines, broker: { host: '0.0.0.0' } });
  const bad = await runCli(['gateway', '--check', '--config', open]);
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.out, /FL_ERR_CONFIG|broker\.host: .*without credentials/);
});

test('without a terminal the banner names the token file, and /api/gateway hides the URL password', {
  skip,
  timeout: 600_000,
}, async () => {
  dir ??= await mkdtemp(path.join(os.tmpdir(), 'fl-sec-secrets-'));
  const pw = await writePasswordFile(dir, { gw: 'url-secret-4321' });
  await chmod(pw, 0o644);
  mosq = await startMosquitto({ extraConfig: ['allow_anonymous false', `password_file ${pw}`] });
  const file = await writeConfig(dir, {
    site: 'sec',
    stateDir: path.join(dir, 'state'),
    model: await simModelDir(),
    machines,
    broker: { embedded: false, url: `mqtt://gw:url-secret-4321@127.0.0.1:${mosq.port}` },
    http: { port: 0 },
    pipeline: { workers: 1 },
  });
  gw = await startGatewayProcess(file);
  const g = gw;
  const token = (await readFile(path.join(dir, 'state', 'token'), 'utf8')).trim();
  assert.equal(g.token, token, 'the fixture found the token through the file the banner names');
  assert.match(g.output(), /"dashboard":"http:\/\/\S+\/\s+\(token in \S+token\)"/);
  assert.ok(!g.output().includes(token), `the token is in the output:\n${g.output()}`);
  assert.ok(!g.output().includes('url-secret-4321'), g.output());
  const health = await until('the gateway connected to its broker', async () => {
    const h = await g.get<{ broker: { url: string; connected: boolean } }>('/api/gateway');
    return h.broker.connected ? h : undefined;
  });
  assert.equal(health.broker.url, `mqtt://gw:${REDACTED}@127.0.0.1:${mosq.port}`);
});

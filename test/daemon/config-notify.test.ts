/** The `notify` section: off by default, secrets from files, bad fields named by their path. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/daemon/config.js';
import { isFaultlineError } from '../../src/errors.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-config-notify-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const machines = [{ id: 'a', sensors: [{ id: 1, sampleRate: 12000 }] }];

function configError(notify: unknown): string {
  try {
    parseConfig({ machines, notify }, 'gw.yaml');
  } catch (err) {
    assert.ok(isFaultlineError(err, 'FL_ERR_CONFIG'), `expected FL_ERR_CONFIG, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the configuration was accepted');
}

test('no channel by default', () => {
  const n = parseConfig({ machines }).notify;
  assert.equal(n.webhook, undefined);
  assert.equal(n.email, undefined);
  assert.equal(n.minSeverity, 'warning');
  assert.equal(n.retryInitialMs, 1000);
  assert.equal(n.retryMaxMs, 300_000);
});

test('webhook and e-mail with secrets from files', async () => {
  const secretFile = path.join(dir, 'hook-secret');
  const passwordFile = path.join(dir, 'smtp-password');
  await writeFile(secretFile, 'file-secret-0123456789\n');
  await writeFile(passwordFile, 'smtp-pass\n');
  const n = parseConfig({
    machines,
    notify: {
      minSeverity: 'alarm',
      webhook: { url: 'https://ops.example/hook?token=x', secretFile },
      email: {
        host: 'smtp.example',
        username: 'fl',
        passwordFile,
        from: 'faultline@plant.example',
        to: ['ops@plant.example'],
        minSeverity: 'warning',
      },
    },
  }).notify;
  assert.equal(n.webhook?.secret, 'file-secret-0123456789');
  assert.equal(n.webhook?.timeoutMs, 10_000);
  assert.equal(n.email?.password, 'smtp-pass');
  assert.equal(n.email?.port, 587);
  assert.equal(n.email?.minSeverity, 'warning');
  assert.equal(n.minSeverity, 'alarm');
});

test('bad fields are named by their path', () => {
  assert.match(
    configError({ webhook: { url: 'ftp://x.example/', secret: 'x'.repeat(20) } }),
    /notify\.webhook\.url: expected an http/,
  );
  assert.match(
    configError({ webhook: { url: 'https://x.example/', secret: 'short' } }),
    /notify\.webhook\.secret: give a secret of at least 16/,
  );
  assert.match(
    configError({ webhook: { url: 'https://x.example/', secretFile: path.join(dir, 'missing') } }),
    /notify\.webhook\.secretFile: cannot read/,
  );
  assert.match(
    configError({ email: { host: 'smtp.example', from: 'nobody', to: ['a@b.example'] } }),
    /notify\.email\.from: expected an e-mail address/,
  );
  assert.match(
    configError({ email: { host: 'smtp.example', from: 'a@b.example', to: [] } }),
    /notify\.email\.to/,
  );
  assert.match(configError({ minSeverity: 'loud' }), /notify\.minSeverity: expected one of/);
  assert.match(
    configError({ retryInitialMs: 5000, retryMaxMs: 1000 }),
    /notify\.retryMaxMs: retryMaxMs must be at least/,
  );
  assert.match(configError({ webhok: {} }), /notify/);
});

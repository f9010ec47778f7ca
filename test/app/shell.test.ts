/**
 * The Electron shell's security-relevant logic, without Electron (it cannot
 * install here): window options against the security checklist, the CSP,
 * navigation and permission guards, IPC sender/argument validation, the
 * gateway store on a real temporary folder, and the preload bridge.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBridge } from '../../app/shell/bridge.js';
import { consoleCsp, launcherCsp, serializeCsp, websocketOrigin } from '../../app/shell/csp.js';
import { withConsoleCsp } from '../../app/shell/csp-headers.js';
import { GatewayStore, type TokenCodec } from '../../app/shell/gateway-store.js';
import {
  CHANNELS,
  type InvokeEventLike,
  type IpcMainLike,
  IpcRefusedError,
  isTrustedSender,
  registerGatewayIpc,
  validateRequest,
} from '../../app/shell/ipc.js';
import {
  denyPermissionCheck,
  denyPermissionRequest,
  denyWindowOpen,
  fileFolderOrigin,
  isNavigationAllowed,
  navigationGuard,
} from '../../app/shell/navigation.js';
import { encryptsAtRest, safeStorageCodec } from '../../app/shell/token-codec.js';
import {
  consoleWindowOptions,
  launcherWindowOptions,
  type SecureWebPreferences,
} from '../../app/shell/window-options.js';
import { isFaultlineError } from '../../src/errors.js';

const LAUNCHER = 'file:///opt/faultline/app/dist/launcher/index.html';
const TOKEN = 'tok_0123456789abcdefXYZ';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-shell-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function assertSecure(p: SecureWebPreferences): void {
  assert.equal(p.contextIsolation, true);
  assert.equal(p.nodeIntegration, false);
  assert.equal(p.nodeIntegrationInWorker, false);
  assert.equal(p.nodeIntegrationInSubFrames, false);
  assert.equal(p.sandbox, true);
  assert.equal(p.webSecurity, true);
  assert.equal(p.allowRunningInsecureContent, false);
  assert.equal(p.webviewTag, false);
  assert.equal(p.experimentalFeatures, false);
}

describe('window options', () => {
  test('the launcher keeps every secure default and has the preload', () => {
    const o = launcherWindowOptions('/abs/preload.cjs');
    assertSecure(o.webPreferences);
    assert.equal(o.webPreferences.preload, '/abs/preload.cjs');
  });

  test('a console window keeps every secure default and has no preload', () => {
    const o = consoleWindowOptions('Line 3');
    assertSecure(o.webPreferences);
    assert.equal('preload' in o.webPreferences, false);
    assert.ok(o.width <= 1366 && o.height <= 768, 'fits a 1366×768 screen');
    assert.match(o.title, /Line 3/);
  });
});

describe('Content-Security-Policy', () => {
  const directives = (csp: string) =>
    new Map(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)] as const));

  test('the console may only talk to its gateway, over HTTP and WebSocket', () => {
    const d = directives(consoleCsp('http://10.0.0.5:8080'));
    assert.deepEqual(d.get('default-src'), ["'none'"]);
    assert.deepEqual(d.get('script-src'), ["'self'"]);
    assert.deepEqual(d.get('connect-src'), ['http://10.0.0.5:8080', 'ws://10.0.0.5:8080']);
    assert.deepEqual(d.get('object-src'), ["'none'"]);
    assert.deepEqual(d.get('frame-ancestors'), ["'none'"]);
    const all = consoleCsp('https://gw.plant:8443');
    assert.doesNotMatch(all, /unsafe-inline|unsafe-eval|\*/);
    assert.match(all, /connect-src https:\/\/gw\.plant:8443 wss:\/\/gw\.plant:8443/);
  });

  test('the launcher may not use the network at all', () => {
    assert.deepEqual(directives(launcherCsp()).get('connect-src'), ["'none'"]);
  });

  test('non-HTTP gateways and directive injection are refused', () => {
    assert.throws(() => consoleCsp('file:///etc/passwd'), TypeError);
    assert.throws(() => consoleCsp('javascript:alert(1)'), TypeError);
    assert.throws(() => serializeCsp({ 'script-src': ["'self'; script-src *"] }), TypeError);
    assert.equal(websocketOrigin('https://a:1'), 'wss://a:1');
  });

  test('responses from an opened gateway get the strict CSP, replacing a looser one', () => {
    const origins = new Set(['http://gw:8080']);
    const out = withConsoleCsp(
      'http://gw:8080/main.js',
      { 'content-security-policy': ['default-src *'], 'content-type': ['text/javascript'] },
      origins,
    );
    assert.deepEqual(Object.keys(out ?? {}).sort(), ['Content-Security-Policy', 'content-type']);
    assert.equal(out?.['Content-Security-Policy'][0], consoleCsp('http://gw:8080'));
    const other = { a: ['b'] };
    assert.equal(withConsoleCsp('http://evil:8080/', other, origins), other);
  });
});

describe('navigation and permissions', () => {
  test('a window only navigates within its allowed origins', () => {
    const allowed = ['http://gw:8080'];
    assert.equal(isNavigationAllowed('http://gw:8080/#/machine/p1', allowed), true);
    assert.equal(isNavigationAllowed('http://gw:8081/', allowed), false);
    assert.equal(isNavigationAllowed('https://gw:8080/', allowed), false);
    assert.equal(isNavigationAllowed('http://user:pw@gw:8080/', allowed), false);
    assert.equal(isNavigationAllowed('javascript:alert(1)', allowed), false);
    assert.equal(isNavigationAllowed('file:///etc/passwd', allowed), false);
    assert.equal(isNavigationAllowed('not a url', allowed), false);
    const app = fileFolderOrigin('/opt/faultline/app/launcher');
    assert.equal(app, 'file:///opt/faultline/app/launcher/');
    assert.equal(isNavigationAllowed(`${app}index.html`, [app]), true);
    assert.equal(isNavigationAllowed(`${app}index.html#gw`, [app]), true);
    // file:// outside the app's folder is refused, however it is spelt
    for (const bad of [
      'file:///etc/passwd',
      'file:///opt/faultline/app/launcher/../../../etc/passwd',
      'file:///opt/faultline/app/launcher/%2e%2e/%2e%2e/secrets',
      'file:///opt/faultline/app/launcher%2f..%2f..%2fetc/passwd',
      'file:///opt/faultline/app/launcher-evil/index.html',
      'file://remote-host/opt/faultline/app/launcher/index.html',
    ])
      assert.equal(isNavigationAllowed(bad, [app]), false, bad);
    // the old catch-all entry grants nothing any more
    assert.equal(isNavigationAllowed('file:///x/launcher/index.html', ['file://']), false);
  });

  test('the will-navigate guard cancels a blocked navigation and reports it', () => {
    const blocked: string[] = [];
    const guard = navigationGuard(['http://gw:8080'], (u) => blocked.push(u));
    let prevented = 0;
    const ev = { preventDefault: () => prevented++ };
    guard(ev, 'http://gw:8080/');
    assert.equal(prevented, 0);
    guard(ev, 'https://phish.example/');
    assert.equal(prevented, 1);
    assert.deepEqual(blocked, ['https://phish.example/']);
  });

  test('new windows and every permission request are denied', () => {
    assert.deepEqual(denyWindowOpen(), { action: 'deny' });
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      let granted: boolean | undefined;
      denyPermissionRequest({}, p, (g) => {
        granted = g;
      });
      assert.equal(granted, false, p);
    }
    assert.equal(denyPermissionCheck(), false);
  });
});

describe('gateway store', () => {
  test('adds, lists without tokens, persists (mode 0600) and removes', async () => {
    const file = path.join(dir, 'a', 'gateways.json');
    const s = new GatewayStore({ file });
    await s.load();
    assert.deepEqual(s.list(), []);
    const g = await s.add({ name: ' Hall A ', url: 'http://10.0.0.5:8080/', token: TOKEN });
    assert.equal(g.name, 'Hall A');
    assert.equal(g.url, 'http://10.0.0.5:8080');
    assert.deepEqual(Object.keys(s.list()[0]).sort(), ['id', 'name', 'url']);
    assert.equal(s.get(g.id)?.token, TOKEN);
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const again = new GatewayStore({ file });
    await again.load();
    assert.deepEqual(again.list(), [g]);
    // Same URL: replaces name and token instead of adding a duplicate.
    const g2 = await again.add({
      name: 'Hall A (new)',
      url: 'http://10.0.0.5:8080',
      token: `${TOKEN}2`,
    });
    assert.equal(g2.id, g.id);
    assert.equal(again.list().length, 1);
    assert.equal(again.get(g.id)?.token, `${TOKEN}2`);
    assert.equal(await again.remove(g.id), true);
    assert.equal(await again.remove(g.id), false);
    assert.deepEqual(again.list(), []);
  });

  test('refuses bad entries with FL_ERR_CONFIG naming the field', async () => {
    const s = new GatewayStore({ file: path.join(dir, 'b.json') });
    await s.load();
    const bad: [Record<string, string>, RegExp][] = [
      [{ name: 'x', url: 'ftp://gw', token: TOKEN }, /http: or https:/],
      [{ name: 'x', url: 'http://u:p@gw:8080', token: TOKEN }, /user name or password/],
      [{ name: 'x', url: `http://gw:8080/?token=${TOKEN}`, token: TOKEN }, /origin only/],
      [{ name: 'x', url: 'gw:8080', token: TOKEN }, /http: or https:|not a URL/],
      [{ name: '', url: 'http://gw', token: TOKEN }, /name/],
      [{ name: 'x', url: 'http://gw', token: 'short' }, /at least 16/],
      [{ name: 'x', url: 'http://gw', token: `${TOKEN} space` }, /printable ASCII/],
    ];
    for (const [input, re] of bad) {
      await assert.rejects(
        s.add(input as never),
        (e: unknown) => isFaultlineError(e) && e.code === 'FL_ERR_CONFIG' && re.test(e.message),
        JSON.stringify(input),
      );
    }
    assert.deepEqual(s.list(), []);
  });

  test('a corrupt file is reported (and left alone), a missing one is empty', async () => {
    const file = path.join(dir, 'corrupt.json');
    for (const text of [
      '{not json',
      '{"version":2,"gateways":[]}',
      '{"version":1,"gateways":[{"id":"x"}]}',
    ]) {
      await writeFile(file, text);
      const s = new GatewayStore({ file });
      await assert.rejects(
        s.load(),
        (e: unknown) => isFaultlineError(e) && e.code === 'FL_ERR_CONFIG',
      );
      assert.equal(await readFile(file, 'utf8'), text);
    }
    assert.throws(() => new GatewayStore({ file: '' }), TypeError);
  });

  test('tokens go through the codec on disk (safeStorage when available, marked plain otherwise)', async () => {
    const file = path.join(dir, 'enc.json');
    // A stand-in for Electron's safeStorage: a reversible transform, enough to see the codec is applied.
    let available = true;
    const safe = {
      isEncryptionAvailable: () => available,
      encryptString: (p: string) => Buffer.from([...Buffer.from(p)].map((b) => b ^ 0x5a)),
      decryptString: (b: Buffer) => Buffer.from([...b].map((x) => x ^ 0x5a)).toString(),
    };
    const codec: TokenCodec = safeStorageCodec(safe);
    const s = new GatewayStore({ file, codec });
    await s.load();
    const g = await s.add({ name: 'enc', url: 'https://gw', token: TOKEN });
    const onDisk = await readFile(file, 'utf8');
    assert.doesNotMatch(onDisk, new RegExp(TOKEN));
    assert.match(onDisk, /"enc:/);
    available = false;
    await s.add({ name: 'plain', url: 'https://gw2', token: TOKEN });
    assert.match(await readFile(file, 'utf8'), /"plain:tok_/);
    const r = new GatewayStore({ file, codec });
    await r.load();
    assert.equal(r.get(g.id)?.token, TOKEN);
    assert.equal(r.list().length, 2);
  });
});

test('safeStorage on Linux without a keyring (basic_text) is not taken for encryption: tokens stored plain, reported so', () => {
  const xor = (b: Buffer) => Buffer.from([...b].map((x) => x ^ 0x5a));
  const safe = {
    isEncryptionAvailable: () => true,
    encryptString: (p: string) => xor(Buffer.from(p)),
    decryptString: (b: Buffer) => xor(b).toString(),
    getSelectedStorageBackend: () => 'basic_text',
  };
  assert.equal(encryptsAtRest(safe), false);
  const stored = safeStorageCodec(safe).encode('tok_secret');
  assert.equal(stored, 'plain:tok_secret');
  assert.equal(safeStorageCodec(safe).decode(stored), 'tok_secret');
  const keyring = { ...safe, getSelectedStorageBackend: () => 'gnome_libsecret' };
  assert.equal(encryptsAtRest(keyring), true);
  assert.match(safeStorageCodec(keyring).encode('tok_secret'), /^enc:/);
});

describe('IPC', () => {
  const ev = (url: string | null): InvokeEventLike => ({
    senderFrame: url === null ? null : { url },
  });

  test('only the launcher page is a trusted sender', () => {
    assert.equal(isTrustedSender(LAUNCHER, LAUNCHER), true);
    assert.equal(isTrustedSender(`${LAUNCHER}#x`, LAUNCHER), true);
    assert.equal(
      isTrustedSender('file:///opt/faultline/app/dist/launcher/other.html', LAUNCHER),
      false,
    );
    assert.equal(isTrustedSender('http://gw:8080/', LAUNCHER), false);
    assert.equal(isTrustedSender('about:blank', LAUNCHER), false);
    assert.equal(isTrustedSender(null, LAUNCHER), false);
    assert.equal(isTrustedSender('', LAUNCHER), false);
  });

  test('requests are validated: sender first, then the argument tuple', () => {
    assert.throws(
      () => validateRequest(CHANNELS.list, ev('http://gw:8080/'), [], LAUNCHER),
      IpcRefusedError,
    );
    assert.throws(
      () => validateRequest(CHANNELS.list, ev(null), [], LAUNCHER),
      /did not come from/,
    );
    assert.deepEqual(validateRequest(CHANNELS.list, ev(LAUNCHER), [], LAUNCHER), []);
    assert.throws(
      () => validateRequest(CHANNELS.list, ev(LAUNCHER), ['extra'], LAUNCHER),
      IpcRefusedError,
    );
    assert.throws(
      () => validateRequest(CHANNELS.remove, ev(LAUNCHER), ['../etc'], LAUNCHER),
      /invalid argument/,
    );
    assert.throws(
      () =>
        validateRequest(
          CHANNELS.add,
          ev(LAUNCHER),
          [{ name: 'a', url: 'http://gw', token: TOKEN, admin: true }],
          LAUNCHER,
        ),
      /invalid argument/,
    );
    const [g] = validateRequest(
      CHANNELS.add,
      ev(LAUNCHER),
      [{ name: 'a', url: 'http://gw:1/', token: TOKEN }],
      LAUNCHER,
    );
    assert.equal(g.url, 'http://gw:1');
  });

  test('the four handlers run end to end on a real store and refuse other frames', async () => {
    // A minimal ipcMain: Electron's is not installable here, the handler contract is just channel → listener.
    const handlers = new Map<string, (e: InvokeEventLike, ...a: unknown[]) => unknown>();
    const ipc: IpcMainLike = {
      handle: (c, l) => {
        assert.equal(handlers.has(c), false, `one handler per channel (${c})`);
        handlers.set(c, l);
      },
      removeHandler: (c) => handlers.delete(c),
    };
    const store = new GatewayStore({ file: path.join(dir, 'ipc.json') });
    await store.load();
    const opened: string[] = [];
    const unregister = registerGatewayIpc(ipc, {
      store,
      launcherUrl: LAUNCHER,
      openGateway: (e) => void opened.push(`${e.url}|${e.token}`),
    });
    assert.deepEqual([...handlers.keys()].sort(), Object.values(CHANNELS).sort());
    for (const c of handlers.keys()) assert.match(c, /^faultline:gateways:[a-z]+$/);
    const call = (c: string, url: string | null, ...a: unknown[]) =>
      Promise.resolve(handlers.get(c)?.(ev(url), ...a));
    const g = (await call(CHANNELS.add, LAUNCHER, {
      name: 'gw',
      url: 'http://gw:8080',
      token: TOKEN,
    })) as { id: string };
    assert.deepEqual(await call(CHANNELS.list, LAUNCHER), [
      { id: g.id, name: 'gw', url: 'http://gw:8080' },
    ]);
    await call(CHANNELS.open, LAUNCHER, g.id);
    assert.deepEqual(opened, [`http://gw:8080|${TOKEN}`]);
    await assert.rejects(call(CHANNELS.open, 'http://gw:8080/', g.id), IpcRefusedError);
    await assert.rejects(call(CHANNELS.remove, 'http://gw:8080/', g.id), IpcRefusedError);
    await assert.rejects(
      call(CHANNELS.open, LAUNCHER, '00000000-0000-4000-8000-000000000000'),
      /no gateway/,
    );
    assert.equal(await call(CHANNELS.remove, LAUNCHER, g.id), true);
    unregister();
    assert.equal(handlers.size, 0);
  });

  test('the preload bridge exposes four functions, each one invoke on its channel', async () => {
    const calls: unknown[][] = [];
    const bridge = buildBridge(async (...a) => {
      calls.push(a);
      return 'ok';
    });
    assert.deepEqual(Object.keys(bridge).sort(), [
      'addGateway',
      'listGateways',
      'openGateway',
      'removeGateway',
    ]);
    assert.ok(Object.isFrozen(bridge));
    await bridge.listGateways();
    await bridge.addGateway({
      name: 'n',
      url: 'http://gw',
      token: TOKEN,
      extra: 'dropped',
    } as never);
    await bridge.removeGateway('id-1');
    await bridge.openGateway('id-2');
    assert.deepEqual(calls, [
      [CHANNELS.list],
      [CHANNELS.add, { name: 'n', url: 'http://gw', token: TOKEN }],
      [CHANNELS.remove, 'id-1'],
      [CHANNELS.open, 'id-2'],
    ]);
  });
});

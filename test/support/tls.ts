/**
 * A throw-away PKI for TLS tests (`openssl`): a CA, a server certificate for
 * 127.0.0.1/localhost signed by it, and an unrelated CA (for "wrong CA"
 * cases); plus the mosquitto config lines of a TLS listener and passwords.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  /** PEM of the CA that signed `serverCert`. */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** PEM of a CA that signed nothing here. */
  wrongCa: string;
}

/** Makes the PKI files in `dir` (RSA 2048, valid 2 days). */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const selfSigned = (name: string, cn: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
    );
  await selfSigned('ca', 'faultline test CA');
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  await writeFile(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  await selfSigned('wrong-ca', 'someone else');
  return {
    ca: path.join(dir, 'ca.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key'),
    wrongCa: path.join(dir, 'wrong-ca.pem'),
  };
}

/** Writes a mosquitto password file for `users` (user → password) and returns its path. */
export async function writePasswordFile(
  dir: string,
  users: Record<string, string>,
): Promise<string> {
  const file = path.join(dir, 'passwd');
  await writeFile(file, '');
  for (const [u, p] of Object.entries(users)) await run('mosquitto_passwd', ['-b', file, u, p]);
  return file;
}

/** mosquitto config lines of a TLS listener on 127.0.0.1:`port` with `pki`'s server certificate. */
export function tlsListener(port: number, pki: TestPki): string[] {
  return [
    `listener ${port} 127.0.0.1`,
    `cafile ${pki.ca}`,
    `certfile ${pki.serverCert}`,
    `keyfile ${pki.serverKey}`,
  ];
}

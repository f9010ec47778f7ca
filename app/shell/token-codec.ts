/**
 * Token encryption at rest through Electron's `safeStorage` (OS keyring /
 * DPAPI / Keychain). Where no keyring is available tokens are stored as given,
 * marked so that a later shell with a keyring still reads them.
 */
import type { TokenCodec } from './gateway-store.js';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

const ENC = 'enc:';
const PLAIN = 'plain:';

/** A codec writing `enc:<base64>` when encryption is available, else `plain:<token>`. */
export function safeStorageCodec(safe: SafeStorageLike): TokenCodec {
  return {
    encode: (token) =>
      safe.isEncryptionAvailable()
        ? ENC + safe.encryptString(token).toString('base64')
        : PLAIN + token,
    decode: (stored) => {
      if (stored.startsWith(ENC))
        return safe.decryptString(Buffer.from(stored.slice(ENC.length), 'base64'));
      if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
      return stored;
    },
  };
}

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
  /**
   * Linux only (Electron ≥ 15): the keyring backend. `basic_text` means no
   * keyring was found and Electron "encrypts" with a fixed password built
   * into Chromium, which protects nothing.
   */
  getSelectedStorageBackend?(): string;
}

const ENC = 'enc:';
const PLAIN = 'plain:';

/**
 * Whether tokens are really encrypted at rest: encryption available, and on
 * Linux a real keyring behind it (`basic_text` is obfuscation with a key
 * every Chromium knows, so it is reported — and stored — as plain).
 */
export function encryptsAtRest(safe: SafeStorageLike): boolean {
  if (!safe.isEncryptionAvailable()) return false;
  return safe.getSelectedStorageBackend?.() !== 'basic_text';
}

/** A codec writing `enc:<base64>` when tokens are really encrypted, else `plain:<token>`. */
export function safeStorageCodec(safe: SafeStorageLike): TokenCodec {
  return {
    encode: (token) =>
      encryptsAtRest(safe) ? ENC + safe.encryptString(token).toString('base64') : PLAIN + token,
    decode: (stored) => {
      if (stored.startsWith(ENC))
        return safe.decryptString(Buffer.from(stored.slice(ENC.length), 'base64'));
      if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
      return stored;
    },
  };
}

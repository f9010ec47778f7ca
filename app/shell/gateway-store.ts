/**
 * The shell's list of gateways (name, URL, token), kept as JSON in the user's
 * data folder. Tokens are encrypted by an injected codec (Electron's
 * `safeStorage` in the shell; identity in tests) and never leave the main
 * process: the renderer lists gateways without tokens.
 *
 * File layout (version 1):
 *   { "version": 1, "gateways": [ { id, name, url, token: "<codec output>" } ] }
 * Written atomically (temporary file + rename) with mode 0600.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../../src/errors.js';

/** Longest accepted token, characters. */
export const MAX_TOKEN_LENGTH = 512;
/** Most gateways one shell keeps. */
export const MAX_GATEWAYS = 64;

/** A gateway URL: http(s), no credentials, no query or fragment; normalised to its origin. */
export const gatewayUrlSchema = z
  .string()
  .max(2048)
  .transform((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s.trim());
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(s)} is not a URL (e.g. http://gateway:8080)`,
      });
      return z.NEVER;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      ctx.addIssue({
        code: 'custom',
        message: `gateway URL must use http: or https:, not ${u.protocol}`,
      });
      return z.NEVER;
    }
    if (u.username || u.password) {
      ctx.addIssue({
        code: 'custom',
        message: 'gateway URL must not carry a user name or password; use the token field',
      });
      return z.NEVER;
    }
    if (u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) {
      ctx.addIssue({
        code: 'custom',
        message: 'give the gateway origin only (http://host:port), without path, ?token= or #',
      });
      return z.NEVER;
    }
    return u.origin;
  });

/** A gateway id: generated UUID. */
export const gatewayIdSchema = z.uuid();

/** What the renderer sends to add a gateway. */
export const newGatewaySchema = z.strictObject({
  name: z.string().trim().min(1, { error: 'give the gateway a name' }).max(100),
  url: gatewayUrlSchema,
  token: z
    .string()
    .min(16, { error: 'the token is at least 16 characters (the gateway prints it on start)' })
    .max(MAX_TOKEN_LENGTH)
    .regex(/^[\x21-\x7e]+$/, { error: 'the token is printable ASCII without spaces' }),
});
export type NewGateway = z.input<typeof newGatewaySchema>;

/** A gateway as the renderer sees it: never the token. */
export interface GatewaySummary {
  id: string;
  name: string;
  url: string;
}

/** A stored gateway, token in clear (main process only). */
export interface GatewayEntry extends GatewaySummary {
  token: string;
}

/** Encrypts tokens at rest; `available` false means tokens are stored as given. */
export interface TokenCodec {
  encode(token: string): string;
  decode(stored: string): string;
}

/** No encryption (tests; shells where the OS keyring is unavailable). */
export const plainCodec: TokenCodec = { encode: (t) => t, decode: (s) => s };

const fileSchema = z.object({
  version: z.literal(1),
  gateways: z
    .array(
      z.object({
        id: gatewayIdSchema,
        name: z.string().min(1),
        url: z.string(),
        token: z.string(),
      }),
    )
    .max(MAX_GATEWAYS),
});

export interface GatewayStoreOptions {
  /** JSON file, e.g. `<userData>/gateways.json`. */
  file: string;
  codec?: TokenCodec;
}

/** The gateway list; every mutation is written through to disk before it resolves. */
export class GatewayStore {
  readonly #file: string;
  readonly #codec: TokenCodec;
  #entries: GatewayEntry[] = [];
  #loaded = false;

  constructor(options: GatewayStoreOptions) {
    if (!options || typeof options.file !== 'string' || options.file === '') {
      throw new TypeError('GatewayStore needs a file path');
    }
    this.#file = options.file;
    this.#codec = options.codec ?? plainCodec;
  }

  /**
   * Reads the file; a missing file is an empty list.
   * @throws FaultlineError FL_ERR_CONFIG when the file is corrupt (it is left untouched).
   */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.#entries = [];
        this.#loaded = true;
        return;
      }
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `cannot read gateway list ${this.#file}: ${(err as Error).message}`,
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `gateway list ${this.#file} is not JSON; fix or delete it`,
      );
    }
    const r = fileSchema.safeParse(raw);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `gateway list ${this.#file}: ${i.path.join('.') || '(root)'}: ${i.message}; fix or delete it`,
      );
    }
    this.#entries = r.data.gateways.map((g) => ({ ...g, token: this.#codec.decode(g.token) }));
    this.#loaded = true;
  }

  /** Gateways without tokens, in insertion order. */
  list(): GatewaySummary[] {
    this.#assertLoaded();
    return this.#entries.map(({ id, name, url }) => ({ id, name, url }));
  }

  /** One gateway with its token, or undefined. */
  get(id: string): GatewayEntry | undefined {
    this.#assertLoaded();
    const e = this.#entries.find((g) => g.id === id);
    return e ? { ...e } : undefined;
  }

  /**
   * Adds (or, for the same URL, replaces the name and token of) a gateway.
   * @throws FaultlineError FL_ERR_CONFIG for an invalid entry or a full list.
   */
  async add(input: NewGateway): Promise<GatewaySummary> {
    this.#assertLoaded();
    const r = newGatewaySchema.safeParse(input);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `gateway ${i.path.join('.') || 'entry'}: ${i.message}`,
      );
    }
    const existing = this.#entries.find((g) => g.url === r.data.url);
    let entry: GatewayEntry;
    if (existing) {
      existing.name = r.data.name;
      existing.token = r.data.token;
      entry = existing;
    } else {
      if (this.#entries.length >= MAX_GATEWAYS) {
        throw new FaultlineError(
          'FL_ERR_CONFIG',
          `the gateway list is full (${MAX_GATEWAYS}); remove one first`,
        );
      }
      entry = { id: randomUUID(), ...r.data };
      this.#entries.push(entry);
    }
    await this.#save();
    return { id: entry.id, name: entry.name, url: entry.url };
  }

  /** Removes a gateway; true when it existed. */
  async remove(id: string): Promise<boolean> {
    this.#assertLoaded();
    const n = this.#entries.length;
    this.#entries = this.#entries.filter((g) => g.id !== id);
    if (this.#entries.length === n) return false;
    await this.#save();
    return true;
  }

  #assertLoaded(): void {
    if (!this.#loaded) throw new Error('GatewayStore used before load()');
  }

  async #save(): Promise<void> {
    const body = {
      version: 1,
      gateways: this.#entries.map((g) => ({ ...g, token: this.#codec.encode(g.token) })),
    };
    await mkdir(path.dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.#file);
  }
}

/**
 * The gateway's one logger: pino, JSON lines with levels on stdout, shared by
 * the gateway's modules (GatewayContext.log) and fastify (`loggerInstance`).
 *
 * Where the lines go decides their shape:
 * - under systemd, with stdout connected to the journal (JOURNAL_STREAM names
 *   stdout's device and inode), each line starts with its syslog priority,
 *   `<3>` error, `<4>` warn, `<6>` info, `<7>` debug (journald's
 *   SyslogLevelPrefix, on by default, strips it and files the line at that
 *   priority, so `journalctl -p warning` finds the gateway's warnings);
 * - on a terminal, pino-pretty's coloured lines when it is installed (an
 *   optional dependency: without it, JSON lines as anywhere else);
 * - anywhere else (a pipe, a file, a log shipper), plain JSON lines.
 */
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** The gateway's logger type (what GatewayContext.log and fastify share). */
export type GatewayLogger = Logger;

/** Levels `log.level` and `--log-level` accept, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CreateLoggerOptions {
  /** Least severe level written. Default 'info'. */
  level?: LogLevel;
  /** Where the lines go. Default stdout (fd 1, synchronous writes: no line lost at exit). */
  destination?: DestinationStream;
  /** Environment read for JOURNAL_STREAM. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Pretty lines (pino-pretty) when it can be loaded. Default: stdout is a terminal and not the journal. */
  pretty?: boolean;
}

/**
 * Syslog priority of a pino level number (pino: trace 10, debug 20, info 30,
 * warn 40, error 50, fatal 60). Between the named levels (custom levels) the
 * next less severe priority is used, so nothing is filed above its level.
 */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2; // crit
  if (level >= 50) return 3; // err
  if (level >= 40) return 4; // warning
  if (level >= 30) return 6; // info
  return 7; // debug
}

/**
 * True when file descriptor `fd` is the journal stream systemd gave this
 * process. JOURNAL_STREAM alone is not enough: children of a service inherit
 * it, and a service may redirect its output to a file; systemd.exec(5) says
 * to compare it with the descriptor's `<device>:<inode>`.
 */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false; // fd closed: nothing reaches the journal through it
  }
}

/**
 * Wraps `dest` so each line starts with its syslog priority `<N>`. pino tells
 * a stream that asks (needsMetadata) the level of the line it is about to
 * write, so the level is not parsed back out of the JSON.
 */
export function syslogPrefixed(dest: DestinationStream): DestinationStream {
  const stream = {
    [pino.symbols.needsMetadataGsym]: true,
    /** Set by pino before each write. */
    lastLevel: 30,
    write(line: string): void {
      dest.write(`<${syslogPriority(stream.lastLevel)}>${line}`);
    },
  };
  return stream;
}

/**
 * pino-pretty writing to stdout, or undefined when it is not installed or
 * fails to load: pretty output is a convenience, never a reason not to start.
 */
function prettyStream(): DestinationStream | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (o: Record<string, unknown>) => DestinationStream;
    return pretty({
      colorize: true,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
  } catch {
    return undefined;
  }
}

/** Options every Faultline logger shares (the destination aside). */
function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    // ISO times read without a converter in a file or `journalctl -o cat`
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

/**
 * The gateway's logger (see the module comment for where its lines go).
 * @param o.level least severe level written, default 'info'
 */
export function createLogger(o: CreateLoggerOptions = {}): GatewayLogger {
  const opts = loggerOptions(o.level ?? 'info');
  if (o.destination) return pino(opts, o.destination);
  const env = o.env ?? process.env;
  if (isJournalStream(env, 1))
    return pino(opts, syslogPrefixed(pino.destination({ fd: 1, sync: true })));
  const pretty = o.pretty ?? process.stdout.isTTY === true;
  const prettyDest = pretty ? prettyStream() : undefined;
  return pino(opts, prettyDest ?? pino.destination({ fd: 1, sync: true }));
}

/** A logger that writes nothing (tests, embedding callers that log elsewhere). */
export function silentLogger(): GatewayLogger {
  return pino({ level: 'silent' });
}

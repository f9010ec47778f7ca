/**
 * The one table from error code to HTTP status, and the JSON error reply
 * `{ error: <FL_ERR code>, message }` every API route sends.
 *
 * Why a table keyed by code: the status is part of the API's contract, and
 * codes are stable while messages may be reworded; a status picked from the
 * message text would change the moment someone improved a sentence.
 */
import type { FastifyReply } from 'fastify';
import { type ErrorCode, isFaultlineError } from '../errors.js';

/**
 * HTTP status of each code an API request can fail with. Any other
 * FaultlineError (a model the sensors cannot run, the gateway not running…)
 * is the request's fault as far as the client can tell: 400.
 */
export const HTTP_STATUS_OF_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  FL_ERR_API_REQUEST: 400,
  FL_ERR_API_AUTH: 401,
  FL_ERR_API_NOT_FOUND: 404,
  FL_ERR_API_ORIGIN: 403,
  FL_ERR_API_CONFLICT: 409,
  // The one adaptation slot is taken: retry once the running job has finished.
  FL_ERR_API_BUSY: 409,
  // The request is well formed, the machine's labelled data is not enough yet.
  FL_ERR_API_VERDICTS_FEW: 409,
  // The store failed: the request was not carried out (an ack was not recorded).
  FL_ERR_STORE_QUEUE: 503,
  FL_ERR_STORE_CLOSED: 503,
};

/** Status for FaultlineErrors the table does not name. */
const DEFAULT_FAULTLINE_STATUS = 400;

/** The HTTP status of an error code (the table's, else 400). */
export function httpStatusOfCode(code: ErrorCode): number {
  return HTTP_STATUS_OF_CODE[code] ?? DEFAULT_FAULTLINE_STATUS;
}

/** The HTTP status of a thrown error: from the table for a FaultlineError, 500 otherwise. */
export function httpStatusOf(err: unknown): number {
  if (!isFaultlineError(err)) return 500;
  return httpStatusOfCode(err.code);
}

/** Maps a thrown error to the JSON error reply. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isFaultlineError(err)) {
    return reply.code(httpStatusOf(err)).send({ error: err.code, message: err.message });
  }
  return reply.code(500).send({ error: 'internal', message: (err as Error).message });
}

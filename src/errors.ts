/**
 * The one catalogue of Faultline's errors.
 *
 * Every error that crosses a module boundary is a `FaultlineError` carrying a
 * stable `code` from this table, so scripts, logs and the API can match on the
 * code rather than on message text (which may be reworded). Codes are never
 * renamed or reused; add new ones at the end of their group.
 *
 * Like fastify's `lib/errors.js`: the key is the code, the value is the
 * one-line meaning used in docs; `test/errors.test.ts` checks both stay unique.
 */
export const ERROR_CODES = {
  // ── data (src/data) ────────────────────────────────────────────────────────
  FL_ERR_MAT_FORMAT: 'the file is not a readable MATLAB level-5 MAT-file',
  FL_ERR_MAT_TRUNCATED: 'the MAT-file ends before its declared contents',
  FL_ERR_MAT_VARIABLE: 'a variable the reader needs is missing or of the wrong type',
  FL_ERR_DATASET_MANIFEST: 'a data-set manifest row is malformed',
  FL_ERR_DATASET_FILE: 'a data file named by a manifest cannot be read',
  FL_ERR_DATASET_EMPTY: 'a data set holds no usable recordings',
  FL_ERR_WAV_FORMAT: 'a WAV file is malformed or uses an unsupported encoding',
  FL_ERR_NPY_FORMAT: 'a .npy file is malformed or uses an unsupported dtype',
  FL_ERR_CSV_FORMAT: 'a CSV signal file is malformed',
  FL_ERR_SPLIT: 'a recording is too short for the requested windows and splits',
  FL_ERR_DATASET_OPTION:
    'a loading option does not apply to the folder (a label column on a CWRU folder)',
  // ── dsp (src/dsp) ─────────────────────────────────────────────────────────
  FL_ERR_SIGNAL_EMPTY: 'a signal has no samples',
  FL_ERR_SIGNAL_NONFINITE: 'a signal holds NaN or infinite samples',
  FL_ERR_SIGNAL_TOO_SHORT: 'a signal is shorter than the transform needs',
  FL_ERR_SIGNAL_TOO_LONG: 'a signal is longer than the configured bound',
  FL_ERR_DSP_PARAMS: 'signal-processing parameters are invalid',
  FL_ERR_SPEED_UNKNOWN: 'the shaft speed is neither given nor estimable from the spectrum',
  FL_ERR_SIM_PARAMS: 'signal-simulator parameters are invalid',
  FL_ERR_SIM_LINK_FAULT:
    'a link-fault spec (bitflip=…,disconnect=…) or one of its durations is malformed',
  // ── ingest (src/ingest) ─────────────────────────────────────────────────────
  FL_ERR_FRAME_MAGIC: 'a frame does not start with the Faultline magic',
  FL_ERR_FRAME_VERSION: 'a frame uses a protocol version this gateway does not speak',
  FL_ERR_FRAME_CRC: 'a frame failed its CRC check',
  FL_ERR_FRAME_LENGTH: 'a frame is shorter or longer than its header says',
  FL_ERR_FRAME_FIELD: 'a frame header field is out of range',
  FL_ERR_COBS: 'a serial packet is not valid COBS',
  FL_ERR_SERIAL_OPEN: 'the serial device cannot be opened',
  FL_ERR_SERIAL_PERMISSION: 'no permission to open the serial device',
  FL_ERR_MQTT_CONNECT: 'the MQTT broker cannot be reached',
  FL_ERR_INGEST_UNROUTED: 'a frame arrived on a topic that routes to no configured sensor',
  FL_ERR_INGEST_TOPIC: "a frame's sensor id differs from the sensor level of its topic",
  FL_ERR_INGEST_LIMIT: 'a source met more distinct sensors than it keeps state for',
  FL_ERR_TOPIC_LEVEL: 'a site, machine, sensor or group name cannot be an MQTT topic level',
  FL_ERR_TOPIC_FILTER:
    "an MQTT topic filter breaks the wildcard rules ('+' a whole level, '#' last)",
  // ── model (src/model) ──────────────────────────────────────────────────────
  FL_ERR_BACKEND: 'no tfjs backend could be initialised',
  FL_ERR_INFERENCE_TIMEOUT: 'an inference worker did not answer a batch in time and was restarted',
  FL_ERR_MODEL_FILE: 'a model file is missing, corrupt or not a Faultline model',
  FL_ERR_MODEL_MISMATCH: "a model's front-end metadata does not match the stream",
  FL_ERR_TRAIN: 'training failed',
  FL_ERR_ADAPT_GUARD: 'an adapted model failed a promotion guard',
  FL_ERR_EVAL_INPUT: 'scores or labels handed to an evaluation metric are malformed',
  FL_ERR_EVAL_TASKS:
    'an evaluation task list is malformed, names an unknown domain or gives no task',
  FL_ERR_EVAL_DATA:
    'evaluation data arguments are invalid: a folder or domain, a label map or a label column',
  FL_ERR_EVAL_FEW_SHOT:
    'few-shot evaluation settings are invalid: the list of labelled windows per class, its start or its epochs',
  // ── diagnose / alerts / store (src/diagnose, src/alerts, src/store) ──────
  FL_ERR_DIAGNOSIS_INPUT:
    'a window diagnosis or stream statistic handed to the health state machine is malformed',
  FL_ERR_ALERT_SCHEMA: 'an alert, health state or acknowledgement does not match its schema',
  FL_ERR_ALERT_OUTBOX: 'the on-disk alert outbox cannot be read or written',
  FL_ERR_NOTIFY_DELIVERY:
    'a webhook or e-mail notification was not accepted by its receiver (it stays in its outbox and is retried)',
  FL_ERR_STORE_QUEUE: 'the store-and-forward queue directory cannot be used',
  FL_ERR_STORE_CLOSED: 'a history store was used after close()',
  // ── report (src/report) ──────────────────────────────────────────────────
  FL_ERR_REPORT_OPTIONS: 'spectrogram image options are invalid (colour map, pixel scale, size)',
  // ── daemon / cli ─────────────────────────────────────────────────────────
  FL_ERR_CONFIG: 'a configuration file or option is invalid',
  FL_ERR_CLI_USAGE: 'a command-line argument is invalid',
  FL_ERR_API_AUTH: 'a gateway API request lacks the access token or presents a wrong one',
  FL_ERR_API_NOT_FOUND: 'a gateway API request names an unknown machine, alert or job',
  FL_ERR_API_REQUEST: 'a gateway API request has an invalid body, query or parameter',
  FL_ERR_API_CONFLICT:
    'a gateway API request conflicts with running work or a failed promotion guard',
  FL_ERR_API_ORIGIN:
    'a browser request to the gateway API comes from another site (Origin or Host not accepted)',
  FL_ERR_API_BUSY:
    'a gateway API request asks for a job the gateway runs one at a time (an adaptation) while one runs',
  FL_ERR_API_VERDICTS_FEW:
    'a learn-from-verdicts request names a machine whose verdicts label too few windows of any class',
  FL_ERR_CLI_GATEWAY: 'a running gateway cannot be reached by a command, or refused it',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error Faultline raises on purpose. */
export class FaultlineError extends Error {
  readonly code: ErrorCode;

  /**
   * @param code stable code from {@link ERROR_CODES}
   * @param message what went wrong, naming the bad value and what to do about it
   */
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FaultlineError';
    this.code = code;
  }
}

/** True when `err` is a FaultlineError, optionally with the given code. */
export function isFaultlineError(err: unknown, code?: ErrorCode): err is FaultlineError {
  return err instanceof FaultlineError && (code === undefined || err.code === code);
}

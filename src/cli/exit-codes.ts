/**
 * The CLI's exit status, as is conventional: 0 done, 1 a runtime failure,
 * 2 a usage error.
 *
 * A usage error means the command cannot run with what it was given: its
 * arguments, its configuration, or the files and folders it names (a MAT-file
 * that is not one, a manifest row without its file, a model that is not a
 * Faultline model). Running it again unchanged fails again; the message says
 * what to change. A runtime failure is something that went wrong while it
 * ran: a device, a broker or a gateway that cannot be reached, training or
 * a backend that failed, a bug. Running it again may succeed.
 *
 * Why a table keyed by code, like ../daemon/http-errors.ts: the codes are
 * stable, and a `Record` over every code makes a new code fail to compile
 * until someone decided which kind it is.
 */
import type { CommanderError } from 'commander';
import type { ErrorCode } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

type ExitStatus = typeof EXIT_FAILURE | typeof EXIT_USAGE;

const U = EXIT_USAGE;
const F = EXIT_FAILURE;

/** Exit status of each error code when it ends a command. */
export const EXIT_STATUS_OF_CODE: Readonly<Record<ErrorCode, ExitStatus>> = {
  // data files and folders the command names
  FL_ERR_MAT_FORMAT: U,
  FL_ERR_MAT_TRUNCATED: U,
  FL_ERR_MAT_VARIABLE: U,
  FL_ERR_DATASET_MANIFEST: U,
  FL_ERR_DATASET_FILE: U,
  FL_ERR_DATASET_EMPTY: U,
  FL_ERR_WAV_FORMAT: U,
  FL_ERR_NPY_FORMAT: U,
  FL_ERR_CSV_FORMAT: U,
  FL_ERR_SPLIT: U,
  FL_ERR_DATASET_OPTION: U,
  // signals read from those files, and the front end's options
  FL_ERR_SIGNAL_EMPTY: U,
  FL_ERR_SIGNAL_NONFINITE: U,
  FL_ERR_SIGNAL_TOO_SHORT: U,
  FL_ERR_SIGNAL_TOO_LONG: U,
  FL_ERR_DSP_PARAMS: U,
  FL_ERR_SPEED_UNKNOWN: U, // give --rpm
  FL_ERR_SIM_PARAMS: U,
  FL_ERR_SIM_LINK_FAULT: U,
  // the wire while it runs
  FL_ERR_FRAME_MAGIC: F,
  FL_ERR_FRAME_VERSION: F,
  FL_ERR_FRAME_CRC: F,
  FL_ERR_FRAME_LENGTH: F,
  FL_ERR_FRAME_FIELD: F,
  FL_ERR_COBS: F,
  FL_ERR_SERIAL_OPEN: F,
  FL_ERR_SERIAL_PERMISSION: F,
  FL_ERR_MQTT_CONNECT: F,
  FL_ERR_INGEST_UNROUTED: F,
  FL_ERR_INGEST_TOPIC: F,
  FL_ERR_INGEST_LIMIT: F,
  // names and filters given as flags
  FL_ERR_TOPIC_LEVEL: U,
  FL_ERR_TOPIC_FILTER: U,
  // models: a file named that is not a model is the command's input; the rest happens while running
  FL_ERR_BACKEND: F,
  FL_ERR_MODEL_FILE: U,
  FL_ERR_MODEL_MISMATCH: U,
  FL_ERR_TRAIN: F,
  FL_ERR_ADAPT_GUARD: F,
  FL_ERR_EVAL_INPUT: F,
  FL_ERR_EVAL_TASKS: U,
  FL_ERR_EVAL_DATA: U,
  FL_ERR_EVAL_FEW_SHOT: U,
  FL_ERR_DIAGNOSIS_INPUT: F,
  FL_ERR_INFERENCE_TIMEOUT: F,
  FL_ERR_ALERT_SCHEMA: F,
  FL_ERR_ALERT_OUTBOX: F,
  FL_ERR_NOTIFY_DELIVERY: F,
  FL_ERR_STORE_QUEUE: F,
  FL_ERR_STORE_CLOSED: F,
  FL_ERR_REPORT_OPTIONS: U,
  FL_ERR_CONFIG: U,
  FL_ERR_CLI_USAGE: U,
  // the gateway API's own errors, should one surface in a command
  FL_ERR_API_AUTH: F,
  FL_ERR_API_NOT_FOUND: F,
  FL_ERR_API_REQUEST: F,
  FL_ERR_API_CONFLICT: F,
  FL_ERR_API_ORIGIN: F,
  FL_ERR_API_BUSY: F,
  // more verdicts may come: the same command may succeed later
  FL_ERR_API_VERDICTS_FEW: F,
  FL_ERR_CLI_GATEWAY: F,
};

/** Exit status of a FaultlineError's code. */
export function exitStatusOfCode(code: ErrorCode): ExitStatus {
  return EXIT_STATUS_OF_CODE[code];
}

/**
 * Exit status of commander's own errors: help and --version asked for are
 * 0; an unknown option or command, a missing or refused argument, or no
 * command at all (help shown as an error) are usage errors, where commander
 * itself would exit 1.
 */
export function exitStatusOfCommander(err: CommanderError): number {
  return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
}

/**
 * The data of one cross-domain evaluation, as users hand it over: one data
 * folder, or a source folder and a target folder (CWRU or bring-your-own),
 * each optionally restricted to some of its domains, with an optional label
 * map that brings both folders' class names onto one set (IR007 → inner).
 *
 * The spec is plain JSON: it travels inside EvalSettings to the worker
 * threads, and {@link loadEvalData} is the one function that turns it into
 * recordings — in the main thread and in every worker — so all of them see
 * the same domains, labels and recordings.
 *
 * Domain names: a single folder keeps its own (`load0`, `pumpA`). With a
 * source and a target folder every domain is prefixed with its folder's name
 * and a slash (`cwru/load0`, `mfpt/mfpt`), always, not only when names
 * collide: a report then reads the same whatever the folders hold, and two
 * folders that both call their machine `rig1` stay apart. When the two
 * folders are the same, it is loaded once and the prefix is shared; two
 * different folders with the same name get `source-<name>/` and
 * `target-<name>/`.
 */
import path from 'node:path';
import { detectDataset } from '../data/dataset.js';
import { FaultlineError } from '../errors.js';
import { loadLabelledData } from '../model/domains.js';
import type { Recording } from '../types.js';

/** One folder of an evaluation. */
export interface EvalFolder {
  /** Data folder: CWRU or bring-your-own (manifest.csv / manifest.json). */
  dir: string;
  /** Keep only these domains, as the folder names them (CWRU: `load0` or `0`). Default: all. */
  domains?: string[];
  /** Put before each of the folder's domain names ('' keeps them as they are). */
  prefix: string;
}

/** What an evaluation runs on (JSON-serialisable). */
export interface EvalDataSpec {
  /** The folder of the source domains (and of the target domains when `target` is absent). */
  source: EvalFolder;
  /** The folder of the target domains, when it is another folder or another selection. */
  target?: EvalFolder;
  /**
   * Manifest column holding the class, for every bring-your-own folder of the
   * spec (a CWRU folder keeps its class names; map them with `labelMap`).
   */
  labelColumn?: string;
  /**
   * Data-set label → class, applied to both folders (exact, case-sensitive
   * match). A label that already is one of the map's classes stays as it is
   * (CWRU's IR007=inner beside MFPT's own `inner`); any other label not in
   * the map is left out. Absent: labels are used as they are.
   */
  labelMap?: Record<string, string>;
}

/** The loaded data of a spec. */
export interface EvalData {
  /** `cwru` only for a spec whose folders are all CWRU; otherwise `byo`. */
  kind: 'cwru' | 'byo';
  /** Kind of the source folder. */
  sourceKind: 'cwru' | 'byo';
  /** Recordings of the kept domains, domains prefixed and labels mapped. */
  recordings: Recording[];
  /** Domains tasks may start from (prefixed), sorted. */
  sourceDomains: string[];
  /** Domains tasks may go to (prefixed), sorted. */
  targetDomains: string[];
}

/** The part of EvalSettings (./evaluate.ts) that says what data to load. */
export interface EvalDataSettings {
  dataset: string;
  labelColumn?: string;
  data?: EvalDataSpec;
  frontEnd: { sampleRate: number };
}

/** The data spec of `settings`: `data`, or the one folder `dataset` with `labelColumn`. */
export function evalDataSpec(settings: Omit<EvalDataSettings, 'frontEnd'>): EvalDataSpec {
  return (
    settings.data ?? {
      source: { dir: settings.dataset, prefix: '' },
      ...(settings.labelColumn !== undefined ? { labelColumn: settings.labelColumn } : {}),
    }
  );
}

/**
 * The data of an evaluation at its front end's rate: the one loader the main
 * thread and every worker (cross-domain units and detection jobs) call, so
 * they all see the same recordings.
 */
export function loadSettingsData(settings: EvalDataSettings): Promise<EvalData> {
  return loadEvalData(evalDataSpec(settings), settings.frontEnd.sampleRate);
}

const usage = (m: string) => new FaultlineError('FL_ERR_EVAL_DATA', m);

/** `0` → `load0` for a CWRU folder; other names as they are. */
function folderDomain(kind: 'cwru' | 'byo', d: string): string {
  return kind === 'cwru' && /^\d$/.test(d) ? `load${d}` : d;
}

/**
 * Loads the recordings of `spec` at `targetRate` Hz (default: each loader's
 * own, see src/data/dataset.ts).
 * @throws FaultlineError FL_ERR_EVAL_DATA for a domain a folder lacks, a
 *   label-map key no recording carries, or a label column with no
 *   bring-your-own folder; FL_ERR_DATASET_EMPTY when a side is left without
 *   recordings; the loaders' FL_ERR_DATASET_* errors
 */
export async function loadEvalData(spec: EvalDataSpec, targetRate?: number): Promise<EvalData> {
  const folders = spec.target ? [spec.source, spec.target] : [spec.source];
  const same =
    spec.target !== undefined && path.resolve(spec.source.dir) === path.resolve(spec.target.dir);
  const loaded: { kind: 'cwru' | 'byo'; recordings: Recording[] }[] = [];
  for (const [i, f] of folders.entries()) {
    if (i === 1 && same) {
      loaded.push(loaded[0]);
      continue;
    }
    const kind = await detectDataset(f.dir);
    loaded.push(
      await loadLabelledData(f.dir, {
        targetRate,
        ...(kind === 'byo' ? { labelColumn: spec.labelColumn } : {}),
      }),
    );
  }
  const col = spec.labelColumn?.trim().toLowerCase();
  if (col !== undefined && col !== 'label' && loaded.every((l) => l.kind === 'cwru')) {
    throw usage(
      `a label column ('${spec.labelColumn}') applies to bring-your-own folders; ${folders.map((f) => f.dir).join(' and ')} ${folders.length > 1 && !same ? 'are' : 'is'} CWRU`,
    );
  }
  if (spec.labelMap) {
    const labels = new Set(loaded.flatMap((l) => l.recordings.map((r) => r.label)));
    const unknown = Object.keys(spec.labelMap).filter((k) => !labels.has(k));
    if (unknown.length > 0) {
      throw usage(
        `label map key(s) ${unknown.join(', ')} match no label of the data (labels: ${[...labels].sort().join(', ')})`,
      );
    }
  }
  // Which (folder, domain) pairs each side keeps.
  const sides = folders.map((f, i) => {
    const { kind, recordings } = loaded[i];
    const have = [...new Set(recordings.map((r) => r.domain))].sort();
    const want = f.domains?.map((d) => folderDomain(kind, d.trim())) ?? have;
    const missing = want.filter((d) => !have.includes(d));
    if (missing.length > 0) {
      throw usage(`domain(s) ${missing.join(', ')} not in ${f.dir} (domains: ${have.join(', ')})`);
    }
    return { folder: f, kind, recordings, keep: new Set(want) };
  });
  const classes = new Set(Object.values(spec.labelMap ?? {}));
  const mapped = (r: Recording): string | undefined =>
    spec.labelMap
      ? ((Object.hasOwn(spec.labelMap, r.label) ? spec.labelMap[r.label] : undefined) ??
        (classes.has(r.label) ? r.label : undefined))
      : r.label;
  // A shared folder's recordings are the same objects on both sides: each is taken once.
  const out: Recording[] = [];
  const taken = new Set<Recording>();
  for (const s of sides) {
    for (const r of s.recordings) {
      const label = mapped(r);
      if (taken.has(r) || !s.keep.has(r.domain) || label === undefined) continue;
      taken.add(r);
      out.push({ ...r, domain: `${s.folder.prefix}${r.domain}`, label });
    }
  }
  const sideDomains = (i: number): string[] => {
    const s = sides[i];
    const kept = s.recordings
      .filter((r) => s.keep.has(r.domain) && mapped(r) !== undefined)
      .map((r) => `${s.folder.prefix}${r.domain}`);
    return [...new Set(kept)].sort();
  };
  const sourceDomains = sideDomains(0);
  const targetDomains = sides.length > 1 ? sideDomains(1) : sourceDomains;
  for (const [name, doms, i] of [
    ['source', sourceDomains, 0],
    ['target', targetDomains, sides.length - 1],
  ] as const) {
    if (doms.length === 0) {
      throw new FaultlineError(
        'FL_ERR_DATASET_EMPTY',
        `no ${name} recording is left in ${folders[i].dir}` +
          (spec.labelMap ? ' after the label map (labels not in the map are left out)' : ''),
      );
    }
  }
  return {
    kind: loaded.every((l) => l.kind === 'cwru') ? 'cwru' : 'byo',
    sourceKind: loaded[0].kind,
    recordings: out,
    sourceDomains,
    targetDomains,
  };
}

/**
 * Parses a folder argument `<dir>[:domain,…]` (`cwru:0,3`, `../pumps:pumpA`).
 * The domain list follows the LAST colon. `cwru` stands for `cwruDir`.
 * @throws FaultlineError FL_ERR_EVAL_DATA for an empty folder or domain name
 */
export function parseFolderArg(
  arg: string,
  cwruDir: string,
  option: string,
): Omit<EvalFolder, 'prefix'> {
  const at = arg.lastIndexOf(':');
  const dirPart = (at < 0 ? arg : arg.slice(0, at)).trim();
  const domains =
    at < 0
      ? undefined
      : arg
          .slice(at + 1)
          .split(',')
          .map((d) => d.trim());
  if (dirPart === '') throw usage(`${option} '${arg}' names no folder; use <dir>[:domain,…]`);
  if (domains?.some((d) => d === '')) {
    throw usage(`${option} '${arg}' has an empty domain name; use <dir>:domainA,domainB`);
  }
  return { dir: dirPart === 'cwru' ? cwruDir : dirPart, ...(domains ? { domains } : {}) };
}

/**
 * Prefixes of a source and a target folder (see the file comment): the
 * folder's name and `/`; the same folder shares it; two folders of the same
 * name get `source-`/`target-` in front.
 */
export function folderPrefixes(sourceDir: string, targetDir: string): [string, string] {
  const a = path.basename(path.resolve(sourceDir));
  const b = path.basename(path.resolve(targetDir));
  if (path.resolve(sourceDir) === path.resolve(targetDir)) return [`${a}/`, `${a}/`];
  if (a === b) return [`source-${a}/`, `target-${b}/`];
  return [`${a}/`, `${b}/`];
}

/**
 * Parses `--label-map IR007=inner,OR007=outer`: comma-separated
 * `label=class` pairs, spaces around names ignored.
 * @throws FaultlineError FL_ERR_EVAL_DATA for a pair without `=`, an empty
 *   side, or a label given twice
 */
export function parseLabelMap(spec: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const m = /^([^=]*)=([^=]*)$/.exec(part);
    const from = m?.[1].trim() ?? '';
    const to = m?.[2].trim() ?? '';
    if (!m || from === '' || to === '') {
      throw usage(`--label-map entry '${part}' is not <label>=<class> (e.g. IR007=inner)`);
    }
    if (Object.hasOwn(map, from)) {
      throw usage(`--label-map gives '${from}' twice (${from}=${map[from]} and ${from}=${to})`);
    }
    map[from] = to;
  }
  return map;
}

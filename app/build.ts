/**
 * Builds the console with esbuild:
 *
 *   app/web/dist/   index.html, main.js, main.css   the web console (the gateway serves it at `/`;
 *                                                   `http.webDir` defaults to this folder)
 *   app/dist/       main.js, preload.cjs, launcher/  the Electron shell (`cd app && npm start`;
 *                                                   packaged by app/electron-builder.yml)
 *
 * Run: `npm run build:web` (`-- --watch` rebuilds on change, `-- --dev` skips minification), or
 * `npm run build` in app/. Uses the root's dev dependencies (esbuild, tsx), not app/'s.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const appDir = path.dirname(fileURLToPath(import.meta.url));
/** Default output of the web console; the gateway serves it (`http.webDir` default). */
export const WEB_DIST = path.join(appDir, 'web', 'dist');
const shellOut = path.join(appDir, 'dist');

export interface BuildOptions {
  /** Minify and drop sourcemaps. Default true. */
  minify?: boolean;
  /** Also build the Electron shell. Default true. */
  shell?: boolean;
  /** Web console output folder. Default app/web/dist. */
  webOut?: string;
  /** Log level. Default 'warning'. */
  logLevel?: esbuild.LogLevel;
}

/** The web console bundle options (browser, ES2022, one JS and one CSS file). */
export function webBuildOptions(minify: boolean, webOut = WEB_DIST): esbuild.BuildOptions {
  return {
    entryPoints: { main: path.join(appDir, 'web', 'src', 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    outdir: webOut,
    minify,
    sourcemap: minify ? false : 'linked',
    legalComments: 'linked',
    metafile: true,
  };
}

/** Builds everything; resolves with the output files (relative to app/). */
export async function build(o: BuildOptions = {}): Promise<string[]> {
  const minify = o.minify ?? true;
  const logLevel = o.logLevel ?? 'warning';
  const webOut = o.webOut ?? WEB_DIST;
  await rm(webOut, { recursive: true, force: true });
  await mkdir(webOut, { recursive: true });
  const web = await esbuild.build({ ...webBuildOptions(minify, webOut), logLevel });
  await copyFile(path.join(appDir, 'web', 'index.html'), path.join(webOut, 'index.html'));
  const outputs = [...Object.keys(web.metafile?.outputs ?? {}), path.join(webOut, 'index.html')];
  if (o.shell ?? true) {
    await rm(shellOut, { recursive: true, force: true });
    const common = {
      bundle: true,
      platform: 'node' as const,
      target: 'node22',
      external: ['electron'],
      logLevel,
      minify: false,
    };
    const main = await esbuild.build({
      ...common,
      entryPoints: [path.join(appDir, 'main.ts')],
      format: 'esm',
      outfile: path.join(shellOut, 'main.js'),
      metafile: true,
    });
    // Sandboxed preloads must be CommonJS.
    const preload = await esbuild.build({
      ...common,
      entryPoints: [path.join(appDir, 'shell', 'preload.ts')],
      format: 'cjs',
      outfile: path.join(shellOut, 'preload.cjs'),
      metafile: true,
    });
    const launcher = await esbuild.build({
      ...common,
      platform: 'browser',
      target: 'chrome120',
      format: 'esm',
      entryPoints: [path.join(appDir, 'launcher', 'launcher.ts')],
      outfile: path.join(shellOut, 'launcher', 'launcher.js'),
      metafile: true,
    });
    for (const f of ['index.html', 'launcher.css']) {
      await copyFile(path.join(appDir, 'launcher', f), path.join(shellOut, 'launcher', f));
    }
    outputs.push(
      ...Object.keys(main.metafile.outputs),
      ...Object.keys(preload.metafile.outputs),
      ...Object.keys(launcher.metafile.outputs),
      path.join(shellOut, 'launcher', 'index.html'),
      path.join(shellOut, 'launcher', 'launcher.css'),
    );
  }
  return outputs.map((f) => path.relative(appDir, path.resolve(f)));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('app/build.ts')) {
  const args = new Set(process.argv.slice(2));
  if (args.has('--watch')) {
    const ctx = await esbuild.context({ ...webBuildOptions(false), logLevel: 'info' });
    await mkdir(WEB_DIST, { recursive: true });
    await copyFile(path.join(appDir, 'web', 'index.html'), path.join(WEB_DIST, 'index.html'));
    await ctx.watch();
  } else {
    const t0 = performance.now();
    const files = await build({ minify: !args.has('--dev') });
    console.log(
      `faultline console built in ${Math.round(performance.now() - t0)} ms:\n  ${files.join('\n  ')}`,
    );
  }
}

/**
 * Navigation and permission guards. A window may only ever show the page it
 * was opened for: the launcher its local file, a console window its gateway's
 * origin. New windows, <webview>s and every permission request (camera,
 * notifications, geolocation…) are refused.
 */
import { pathToFileURL } from 'node:url';

/**
 * True when `target` may be loaded in a window allowed `allowedOrigins`:
 * `http(s)://host:port` origins, or `file:///dir/` folders (a file URL ending
 * in `/`: only files inside that folder, so a page of the app cannot be
 * steered to `file:///etc/passwd` or the user's documents). Unparseable
 * URLs are refused.
 */
export function isNavigationAllowed(target: string, allowedOrigins: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (u.protocol === 'file:') {
    // URL parsing has resolved `..` and `%2e%2e` already; encoded slashes stay
    // encoded, so a folder prefix on the pathname cannot be escaped.
    if (u.host !== '' || /%2f|%5c/i.test(u.pathname)) return false;
    return allowedOrigins.some((a) => {
      if (!a.startsWith('file:///') || !a.endsWith('/')) return false;
      return u.pathname.startsWith(new URL(a).pathname);
    });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return allowedOrigins.includes(u.origin);
}

/** The `file:///…/` folder entry of `allowedOrigins` for the pages under `dir` (an absolute path). */
export function fileFolderOrigin(dir: string): string {
  const href = pathToFileURL(dir).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** The minimal event shape of `will-navigate` / `will-redirect`. */
export interface PreventableEvent {
  preventDefault(): void;
}

/** A `will-navigate` listener that cancels navigation outside `allowedOrigins`. */
export function navigationGuard(
  allowedOrigins: readonly string[],
  onBlocked?: (url: string) => void,
): (event: PreventableEvent, url: string) => void {
  return (event, url) => {
    if (!isNavigationAllowed(url, allowedOrigins)) {
      event.preventDefault();
      onBlocked?.(url);
    }
  };
}

/** `setWindowOpenHandler` result: the console never opens windows (links open nothing). */
export function denyWindowOpen(): { action: 'deny' } {
  return { action: 'deny' };
}

/** `setPermissionRequestHandler`: every request is denied; the console needs none. */
export function denyPermissionRequest(
  _webContents: unknown,
  _permission: string,
  callback: (granted: boolean) => void,
): void {
  callback(false);
}

/** `setPermissionCheckHandler`: every check answers "not granted". */
export function denyPermissionCheck(): boolean {
  return false;
}

/**
 * Navigation and permission guards. A window may only ever show the page it
 * was opened for: the launcher its local file, a console window its gateway's
 * origin. New windows, <webview>s and every permission request (camera,
 * notifications, geolocation…) are refused.
 */

/**
 * True when `target` may be loaded in a window allowed `allowedOrigins`
 * (`http://host:port` or `file://`). Unparseable URLs are refused.
 */
export function isNavigationAllowed(target: string, allowedOrigins: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (u.protocol === 'file:') return allowedOrigins.includes('file://');
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return allowedOrigins.includes(u.origin);
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

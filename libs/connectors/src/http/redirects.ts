/** 301 Moved Permanently and 308 Permanent Redirect: the publisher moved the resource for good. */
const PERMANENT_STATUSES = new Set([301, 308]);

/**
 * Tracks the permanent prefix of a redirect chain. Only while every hop so far was permanent is
 * the target a URL the caller may store in place of the old one: after a temporary hop, later
 * "permanent" ones describe the temporary location, not the feed's new home.
 */
export class PermanentRedirects {
  /** The target of the last hop of the permanent prefix; null when the chain did not start with one. */
  url: string | null = null;
  private broken = false;

  follow(status: number, target: string): void {
    if (this.broken) return;
    if (PERMANENT_STATUSES.has(status)) this.url = target;
    else this.broken = true;
  }
}

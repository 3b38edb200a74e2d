import type { AlertTransition } from './state.js';

/** A slow or hung receiver must not hold up the next check. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

/** The JSON body POSTed for each transition. `text` makes Slack/Mattermost-style webhooks show a line as is. */
export interface WebhookBody extends AlertTransition {
  text: string;
  /** The stack's QUEUE_PREFIX: tells stacks sharing one receiver apart. */
  stack: string;
  since_iso: string;
  at_iso: string;
}

export function webhookBody(transition: AlertTransition, stack: string): WebhookBody {
  const icon = transition.status === 'firing' ? (transition.severity === 'critical' ? '[CRITICAL]' : '[WARNING]') : '[RESOLVED]';
  return {
    ...transition,
    text: `${icon} aharadar ${stack}: ${transition.name} — ${transition.message}`,
    stack,
    since_iso: new Date(transition.since).toISOString(),
    at_iso: new Date(transition.at).toISOString(),
  };
}

/** A notification the webhook did not take. `permanent`: retrying the same request cannot help. */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/**
 * A 4xx says the request itself is wrong (a revoked token, a bad path, a payload the receiver
 * rejects): resending it would block every later notification forever. 408 and 429 are the
 * receiver asking to come back later.
 */
function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * POSTs one transition; throws a {@link WebhookError} with the reason (HTTP status or network
 * error) when it was not delivered. `https://user:secret@host/...` is sent as basic auth:
 * fetch refuses credentials inside a URL. The URL itself never appears in an error (it may
 * hold a token).
 */
export async function postWebhook(url: string, transition: AlertTransition, stack: string, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<void> {
  const target = new URL(url);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.username || target.password) {
    headers['authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  let response: Response;
  try {
    response = await fetch(target, { method: 'POST', headers, body: JSON.stringify(webhookBody(transition, stack)), signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new WebhookError(`webhook unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}`, false);
  }
  // Drain the body so the connection is released.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status >= 300 && response.status < 400) throw new WebhookError(`webhook answered a redirect (HTTP ${response.status}); set ALERT_WEBHOOK_URL to the final address`, true);
  if (!response.ok) throw new WebhookError(`webhook answered HTTP ${response.status}`, isPermanentStatus(response.status));
}

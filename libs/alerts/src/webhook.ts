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

/** POSTs one transition; throws with the reason (HTTP status or network error) when not delivered. */
export async function postWebhook(url: string, transition: AlertTransition, stack: string, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(webhookBody(transition, stack)),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  // Drain the body so the connection is released.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`);
}

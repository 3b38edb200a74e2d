import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP receiver on 127.0.0.1 for alert webhooks: records JSON bodies, answers `status`. */
export interface WebhookReceiver<T> {
  url: string;
  bodies: T[];
  /** The Authorization header of each recorded body ('' when none). */
  authorizations: string[];
  /** HTTP status to answer with; anything but 200 also means "not recorded" (a broken receiver). */
  status: number;
  close(): Promise<void>;
}

export async function startWebhookReceiver<T>(): Promise<WebhookReceiver<T>> {
  const server: Server = createServer();
  const receiver: WebhookReceiver<T> = {
    url: '',
    bodies: [],
    authorizations: [],
    status: 200,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.on('request', (req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (c: string) => (text += c));
    req.on('end', () => {
      if (receiver.status === 200) {
        receiver.bodies.push(JSON.parse(text) as T);
        receiver.authorizations.push(req.headers.authorization ?? '');
      }
      res.writeHead(receiver.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}

import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * How many HTTP requests this server is serving right now: counted when a request arrives
 * (before fastify sees it) and released when its response closes, whether it finished or the
 * client went away. The adaptive event-store writer (LEDGER_SQLITE_WRITER=adaptive) asks it
 * whether an append's request is alone: only then may a commit block the event loop for an fsync.
 */
export class OpenRequests {
  private openCount = 0;

  /** Requests between arrival and the close of their response. */
  get open(): number {
    return this.openCount;
  }

  /** True when at most one request (the caller's own) is in progress. */
  readonly isCallerAlone = (): boolean => this.openCount <= 1;

  /** Starts counting the server's requests; first among its listeners, so a handler never runs uncounted. */
  follow(server: Server): void {
    server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
      this.openCount += 1;
      response.once('close', () => {
        this.openCount -= 1;
      });
    });
  }
}

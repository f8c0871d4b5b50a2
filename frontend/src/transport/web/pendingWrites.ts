import { apiError } from '../errors';
import type { ApiError, Post } from '../types';

/** How long a websocket write may wait for its ack. */
const writeTimeoutMs = 15_000;

interface Waiter {
  resolve: (p: Post) => void;
  reject: (e: ApiError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * PendingWrites matches the node's ack and error frames to the writes sent
 * over the socket, by the id each emit carries. A write with no answer
 * within writeTimeoutMs fails with 'timeout': it may or may not have been
 * saved. An answer that comes after that is not matched to anything.
 */
export class PendingWrites {
  private lastID = 0;
  private readonly waiting = new Map<number, Waiter>();

  /** add gives a write the next id, sends it with send(id) and resolves with the post the node acks. */
  add(send: (id: number) => void): Promise<Post> {
    const id = ++this.lastID;
    return new Promise<Post>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(apiError('timeout', 'The node did not answer in time; the change may or may not have been saved.'));
      }, writeTimeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      send(id);
    });
  }

  /** resolve settles write id with the post the node committed. */
  resolve(id: number | undefined, post: Post): void {
    this.take(id)?.resolve(post);
  }

  /** reject settles write id with the node's refusal. */
  reject(id: number | undefined, err: ApiError): void {
    this.take(id)?.reject(err);
  }

  /** failAll fails every write still waiting: the socket that carried them is gone. */
  failAll(message: string): void {
    for (const id of [...this.waiting.keys()]) this.reject(id, apiError('timeout', message));
  }

  private take(id: number | undefined): Waiter | undefined {
    if (id === undefined) return undefined;
    const w = this.waiting.get(id);
    if (w) {
      this.waiting.delete(id);
      clearTimeout(w.timer);
    }
    return w;
  }
}

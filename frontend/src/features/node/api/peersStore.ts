import { Observable } from '../../../lib/observable';
import type { Peer, PeersEnvelope } from '../../../transport/types';

/**
 * PeersStore is the list of LAN peers online, oldest first. A snapshot from
 * the node replaces it; join and leave events that arrive while a snapshot is
 * being read are kept and applied on top of it, so none is lost.
 */
export class PeersStore {
  private peers = new Map<string, Peer>();
  private pending: PeersEnvelope[] | null = null;
  private readonly list = new Observable<readonly Peer[]>([]);

  /** subscribe and getSnapshot are for useSyncExternalStore. */
  readonly subscribe = this.list.subscribe;
  readonly getSnapshot = this.list.get;

  /** beginLoad starts reading a snapshot: events are held until load(). */
  beginLoad(): void {
    this.pending = [];
  }

  /** load installs a snapshot and replays the events held since beginLoad. */
  load(peers: Peer[]): void {
    this.peers = new Map(peers.map((p) => [p.id, p]));
    const held = this.pending ?? [];
    this.pending = null;
    for (const env of held) this.applyNow(env);
    this.emit();
  }

  /** apply applies a join or leave event. */
  apply(env: PeersEnvelope): void {
    if (this.pending) {
      this.pending.push(env);
      return;
    }
    this.applyNow(env);
    this.emit();
  }

  private applyNow(env: PeersEnvelope): void {
    const { action, peer } = env.data;
    if (action === 'join') this.peers.set(peer.id, peer);
    else this.peers.delete(peer.id);
  }

  private emit(): void {
    this.list.set(
      [...this.peers.values()].sort((a, b) =>
        a.since === b.since ? (a.id < b.id ? -1 : 1) : a.since < b.since ? -1 : 1,
      ),
    );
  }
}

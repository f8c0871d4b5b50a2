import { Observable } from '../../../lib/observable';
import { toApiError } from '../../../transport/errors';
import type {
  ApiError,
  ConnStatus,
  Hello,
  Info,
  NodeIdentity,
  Peer,
  PeersEnvelope,
  Transport,
} from '../../../transport/types';
import { MeshController } from './meshController';
import { PeersStore } from './peersStore';

/** NodeState is what the node panel shows besides the peers. */
export interface NodeState {
  info: Info | null;
  infoError: ApiError | null;
  self: Peer | null; // this browser as a LAN peer
  name: string; // display name: the node's on the desktop, this peer's in a browser
  token: string; // pairing token in use ('' when none)
  canWrite: boolean; // this client may write: the desktop, or a browser with the token
  node: NodeIdentity | null; // this node, from the stream's hello
}

/**
 * NodeController follows the node: its identity and LAN URLs, the peers
 * online, the connection state, and this client's name and token.
 */
export class NodeController {
  readonly peers = new PeersStore();
  readonly conn = new Observable<ConnStatus>({ state: 'connecting' });
  readonly state = new Observable<NodeState>({
    info: null,
    infoError: null,
    self: null,
    name: '',
    token: '',
    canWrite: false,
    node: null,
  });
  readonly mesh: MeshController;

  constructor(readonly transport: Transport) {
    this.mesh = new MeshController(transport);
  }

  get kind(): Transport['kind'] {
    return this.transport.kind;
  }

  // ---- LiveListener parts, wired by the session ----

  onOpen(hello: Hello): void {
    this.patch({ self: hello.peer ?? null, canWrite: hello.canWrite, node: hello.node });
    void this.refresh();
    // the follows name the nodes of the posts in the feed
    void this.mesh.refresh();
  }

  onPeers(env: PeersEnvelope): void {
    this.peers.apply(env);
  }

  onStatus(status: ConnStatus): void {
    this.conn.set(status);
    if (status.tokenRejected) void this.refreshToken();
  }

  // ---- reads ----

  /** refresh reads the node's info, peers, name and token again. */
  async refresh(): Promise<void> {
    this.peers.beginLoad();
    const [info, peers] = await Promise.allSettled([this.transport.info(), this.transport.peers()]);
    if (info.status === 'fulfilled') this.patch({ info: info.value, infoError: null });
    else this.patch({ infoError: toApiError(info.reason) });
    this.peers.load(peers.status === 'fulfilled' ? peers.value : this.peers.getSnapshot().slice());
    await Promise.all([this.refreshName(), this.refreshToken()]);
  }

  private async refreshName(): Promise<void> {
    try {
      this.patch({ name: await this.transport.name() });
    } catch {
      // keep the last known name
    }
  }

  private async refreshToken(): Promise<void> {
    try {
      this.patch({ token: await this.transport.token() });
    } catch {
      // keep the last known token
    }
  }

  // ---- changes; each rejects with an ApiError ----

  async setName(name: string): Promise<void> {
    try {
      const n = await this.transport.setName(name);
      this.patch({ name: n });
      const info = this.state.get().info;
      if (this.kind === 'desktop' && info) this.patch({ info: { ...info, node: { ...info.node, name: n } } });
    } catch (e) {
      throw toApiError(e);
    }
  }

  /** rotateToken makes a new pairing token (desktop). */
  async rotateToken(): Promise<void> {
    if (!this.transport.rotateToken) return;
    try {
      this.patch({ token: await this.transport.rotateToken() });
    } catch (e) {
      throw toApiError(e);
    }
  }

  /** setToken makes this browser write with token ('' forgets it). */
  setToken(token: string): void {
    this.transport.setToken?.(token);
    this.patch({ token });
  }

  private patch(p: Partial<NodeState>): void {
    this.state.update((s) => ({ ...s, ...p }));
  }
}

import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ConnStatus, Peer } from '../../../transport';
import type { MeshState } from '../api/meshController';
import type { NodeController, NodeState } from '../api/nodeController';

/** NodeContext carries the session's NodeController to the node components. */
export const NodeContext = createContext<NodeController | null>(null);

export function useNodeController(): NodeController {
  const c = useContext(NodeContext);
  if (!c) throw new Error('useNodeController outside <NodeContext>');
  return c;
}

export function useNodeState(): NodeState {
  const { state } = useNodeController();
  return useSyncExternalStore(state.subscribe, state.get);
}

export function useConnection(): ConnStatus {
  const { conn } = useNodeController();
  return useSyncExternalStore(conn.subscribe, conn.get);
}

export function usePeers(): readonly Peer[] {
  const { peers } = useNodeController();
  return useSyncExternalStore(peers.subscribe, peers.getSnapshot);
}

export function useMesh(): MeshState {
  const { mesh } = useNodeController();
  return useSyncExternalStore(mesh.state.subscribe, mesh.state.get);
}

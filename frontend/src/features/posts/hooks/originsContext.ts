import { createContext, useContext } from 'react';
import type { Origins } from '../lib/origins';

/** OriginsValue is what the feed knows of the nodes its posts come from. */
export interface OriginsValue extends Origins {
  /** unknownOrigin is called when the feed holds a post of a node it cannot name. */
  unknownOrigin: () => void;
}

const none: OriginsValue = { self: '', names: new Map(), followed: [], unknownOrigin: () => {} };

/** OriginsContext carries the node names to the posts components; the app provides it from the node's state. */
export const OriginsContext = createContext<OriginsValue>(none);

export function useOrigins(): OriginsValue {
  return useContext(OriginsContext);
}

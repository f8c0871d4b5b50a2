import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { ConnectionBadge } from '../features/node/components/ConnectionBadge';
import { NodePanel } from '../features/node/components/NodePanel';
import { TokenForm } from '../features/node/components/TokenForm';
import {
  NodeContext,
  useConnection,
  useMesh,
  useNodeController,
  useNodeState,
  usePeers,
} from '../features/node/hooks/nodeContext';
import { ComposerContainer } from '../features/posts/components/ComposerContainer';
import { FeedList } from '../features/posts/components/FeedList';
import { FeedContext } from '../features/posts/hooks/feedContext';
import { OriginsContext, type OriginsValue } from '../features/posts/hooks/originsContext';
import { nodeMarks } from '../lib/nodeColor';
import { NodeMarksContext } from '../lib/nodeMarksContext';
import { CloseIcon, UsersIcon } from '../lib/icons';
import type { Session } from './session';
import a11y from '../styles/a11y.module.css';
import styles from './App.module.css';

/** App is the whole UI for one session (one transport). */
export function App({ session }: { session: Session }) {
  useEffect(() => session.start(), [session]);
  return (
    <FeedContext.Provider value={session.feed}>
      <NodeContext.Provider value={session.node}>
        <OriginsProvider>
          <Shell desktop={session.transport.kind === 'desktop'} />
        </OriginsProvider>
      </NodeContext.Provider>
    </FeedContext.Provider>
  );
}

/** OriginsProvider names the posts' nodes for the feed: this node from its info, the others from the follows. */
function OriginsProvider({ children }: { children: ReactNode }) {
  const node = useNodeController();
  const state = useNodeState();
  const mesh = useMesh();
  const self = state.info?.node ?? state.node;
  const unknownOrigin = useCallback(() => node.mesh.noteOrigins(true), [node]);
  const value = useMemo<OriginsValue>(() => {
    const names = new Map<string, string>();
    for (const f of mesh.follows) names.set(f.node, f.name);
    if (self) names.set(self.id, self.name);
    return { self: self?.id ?? '', names, followed: mesh.follows.map((f) => f.node), unknownOrigin };
  }, [self, mesh.follows, unknownOrigin]);
  // marks that differ for this node and the followed ones (the set changes
  // with a follow, not with each poll: value.followed keeps its ids)
  const followed = value.followed.join(' ');
  const marks = useMemo(() => nodeMarks([value.self, ...followed.split(' ')]), [value.self, followed]);
  return (
    <OriginsContext.Provider value={value}>
      <NodeMarksContext.Provider value={marks}>{children}</NodeMarksContext.Provider>
    </OriginsContext.Provider>
  );
}

function Shell({ desktop }: { desktop: boolean }) {
  const state = useNodeState();
  const peers = usePeers();
  const conn = useConnection();
  const [panelOpen, setPanelOpen] = useState(false);
  const panelButton = useRef<HTMLButtonElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  const aside = useRef<HTMLElement>(null);

  // The drawer opens at its top, where the LAN address is: not where it was
  // scrolled to last time, and not scrolled by focusing the close button.
  useEffect(() => {
    if (!panelOpen) return;
    if (aside.current) aside.current.scrollTop = 0;
    closeButton.current?.focus({ preventScroll: true });
  }, [panelOpen]);

  // The side panel's height, for its sticky offset (App.module.css, .aside).
  useEffect(() => {
    const el = aside.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => el.style.setProperty('--aside-h', `${el.offsetHeight}px`));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  function closePanel() {
    setPanelOpen(false);
    panelButton.current?.focus();
  }

  function onPanelKey(e: KeyboardEvent) {
    if (e.key === 'Escape' && panelOpen) closePanel();
  }

  const nodeName = state.info?.node.name ?? '';
  const readOnly = (
    <div className={styles.readOnly}>
      <div>
        <p className={styles.readOnlyTitle}>You're reading along</p>
        <p className={styles.readOnlyText}>
          {conn.tokenRejected
            ? "That token is not this node's pairing token; it may have been regenerated. Ask the node's owner for the current one: it is shown in the desktop app's node panel, or printed by lanfeedd serve."
            : "To write, enter the node's pairing token or open its write link. The node's owner finds both in the desktop app's node panel, or in the output of lanfeedd serve."}
        </p>
      </div>
      <TokenForm />
    </div>
  );

  return (
    <div className={styles.app}>
      <a href="#feed" className={styles.skip}>
        Skip to feed
      </a>
      <header className={styles.header}>
        <div className={styles.headerInner}>
          <div className={styles.brand}>
            <img src="./favicon.svg" alt="" className={styles.logo} width={28} height={28} />
            <span className={styles.brandName}>lanfeed</span>
            {nodeName && <span className={styles.nodeName}>{nodeName}</span>}
          </div>
          <div className={styles.headerRight}>
            <ConnectionBadge />
            <button
              ref={panelButton}
              type="button"
              className={styles.peersButton}
              onClick={() => setPanelOpen((o) => !o)}
              aria-expanded={panelOpen}
              aria-controls="node-panel"
              aria-label={`Node details, ${peers.length} online`}
            >
              <UsersIcon />
              <span>{peers.length}</span>
            </button>
          </div>
        </div>
      </header>

      <div className={styles.layout}>
        <main id="feed" className={styles.main} tabIndex={-1}>
          <h1 className={a11y.srOnly}>Feed{nodeName ? ` of ${nodeName}` : ''}</h1>
          <ComposerContainer
            {...(desktop ? {} : state.name ? { author: state.name } : {})}
            postingAs={desktop ? nodeName : state.name}
            readOnly={readOnly}
          />
          <FeedList />
        </main>
        <aside
          ref={aside}
          id="node-panel"
          className={panelOpen ? `${styles.aside} ${styles.asideOpen}` : styles.aside}
          aria-label="Node"
          onKeyDown={onPanelKey}
        >
          <div className={styles.asideHead}>
            <span className={styles.asideTitle}>Node</span>
            <button ref={closeButton} type="button" className={styles.closeButton} onClick={closePanel} aria-label="Close node panel">
              <CloseIcon />
            </button>
          </div>
          <NodePanel />
        </aside>
        {panelOpen && <div className={styles.scrim} onClick={closePanel} aria-hidden="true" />}
      </div>
    </div>
  );
}

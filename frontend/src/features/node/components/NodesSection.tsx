import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { markFor, markStyle, useNodeMark, useNodeMarks } from '../../../lib/nodeMarksContext';
import { NodeDot } from '../../../lib/NodeDot';
import { useNow } from '../../../lib/useNow';
import { toApiError, type FollowInfo, type NearbyNode } from '../../../transport';
import { useMesh, useNodeController, useNodeState } from '../hooks/nodeContext';
import { addressError, followStatus } from '../lib/followStatus';
import styles from './NodePanel.module.css';

/** useWhileOnScreen calls start while el is in the viewport; start returns its stop. */
function useWhileOnScreen(el: React.RefObject<HTMLElement | null>, start: () => () => void): void {
  useEffect(() => {
    const target = el.current;
    if (!target || typeof IntersectionObserver === 'undefined') return start();
    let stop: (() => void) | null = null;
    const io = new IntersectionObserver((entries) => {
      const on = entries.some((e) => e.isIntersecting);
      if (on && !stop) stop = start();
      else if (!on && stop) {
        stop();
        stop = null;
      }
    });
    io.observe(target);
    return () => {
      io.disconnect();
      stop?.();
    };
  }, [el, start]);
}


/**
 * NodesSection is the mesh: this node, the nodes it follows and how each
 * goes, nodes nearby to follow, following by address, and auto-follow.
 * Reading it needs nothing; changing it needs write access. It reads the
 * node again every two seconds while it is on screen and the page is shown.
 */
export function NodesSection() {
  const node = useNodeController();
  const state = useNodeState();
  const mesh = useMesh();
  const ref = useRef<HTMLElement>(null);
  useWhileOnScreen(ref, node.mesh.watch);
  const canWrite = node.kind === 'desktop' || state.canWrite;
  const self = state.info?.node ?? state.node;
  const marks = useNodeMarks();

  return (
    <section ref={ref} className={styles.section} aria-labelledby="nodes-heading" data-section="nodes">
      <h2 id="nodes-heading" className={styles.heading}>
        Nodes <span className={styles.count}>{mesh.follows.length + 1}</span>
      </h2>
      <ul className={styles.nodes} aria-label="This node and the nodes it follows">
        {self && (
          <li className={styles.nodeRow} style={markStyle(markFor(marks, self.id))} data-node={self.id}>
            <NodeDot mark={markFor(marks, self.id)} className={styles.nodeDot} />
            <span className={styles.nodeMain}>
              <span className={styles.nodeRowName}>{self.name}</span>
              <span className={styles.mineBadge}>this node</span>
            </span>
          </li>
        )}
        {mesh.follows.map((f) => (
          <FollowRow key={f.node} follow={f} canWrite={canWrite} />
        ))}
      </ul>
      {mesh.loaded && mesh.follows.length === 0 && (
        <p className={styles.muted}>Not following any node yet: its posts would join this feed.</p>
      )}
      {mesh.error && <p className={styles.errorText}>Could not read the followed nodes: {mesh.error.message}</p>}

      <h3 className={styles.subheading}>Nearby</h3>
      {mesh.nearby.length === 0 ? (
        <p className={styles.muted}>No other node found on this network. Add one by its address below.</p>
      ) : (
        <ul className={styles.nodes} aria-label="Nodes nearby">
          {mesh.nearby.map((n) => (
            <NearbyRow key={n.node} nearby={n} canWrite={canWrite} />
          ))}
        </ul>
      )}
      {canWrite ? (
        <AddByAddress />
      ) : (
        <p className={styles.muted}>With the pairing token this browser could follow and unfollow nodes.</p>
      )}
      {mesh.settings && <AutoFollow on={mesh.settings.autoFollow} canWrite={canWrite} />}
    </section>
  );
}

function FollowRow({ follow: f, canWrite }: { follow: FollowInfo; canWrite: boolean }) {
  const mark = useNodeMark(f.node);
  const node = useNodeController();
  const now = useNow();
  const id = useId();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const st = followStatus(f, now);

  async function unfollow() {
    setBusy(true);
    setError('');
    try {
      await node.mesh.unfollow(f.node);
    } catch (e) {
      setError(toApiError(e).message);
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <li className={styles.nodeRow} style={markStyle(mark)} data-node={f.node} data-state={f.state}>
      <NodeDot mark={mark} className={styles.nodeDot} />
      <span className={styles.nodeMain}>
        <span className={styles.nodeRowName}>{f.name || f.node}</span>
        <span className={styles.nodeUrl}>{f.url}</span>
        <span className={styles[`tone_${st.tone}`]} id={`${id}-state`}>
          {st.text}
        </span>
        {st.progress !== undefined && (
          <progress className={styles.progress} max={1} value={st.progress} aria-labelledby={`${id}-state`} />
        )}
        {confirming && (
          <span className={styles.confirm} role="alertdialog" aria-labelledby={`${id}-q`}>
            <span id={`${id}-q`}>
              Unfollow {f.name}? Its posts are removed from this node and from every page showing it.
            </span>
            <span className={styles.row}>
              <button type="button" className={styles.ghost} onClick={() => setConfirming(false)} disabled={busy} autoFocus>
                Cancel
              </button>
              <button type="button" className={styles.danger} onClick={() => void unfollow()} disabled={busy}>
                {busy ? 'Unfollowing…' : 'Unfollow'}
              </button>
            </span>
          </span>
        )}
        {error && (
          <span role="alert" className={styles.errorText}>
            {error}
          </span>
        )}
      </span>
      {canWrite && !confirming && (
        <button
          type="button"
          className={styles.smallButton}
          onClick={() => setConfirming(true)}
          aria-label={`Unfollow ${f.name}`}
        >
          Unfollow
        </button>
      )}
    </li>
  );
}

function NearbyRow({ nearby: n, canWrite }: { nearby: NearbyNode; canWrite: boolean }) {
  const mark = useNodeMark(n.node);
  const node = useNodeController();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function follow() {
    setBusy(true);
    setError('');
    try {
      await node.mesh.follow(n.url);
    } catch (e) {
      setError(toApiError(e).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className={styles.nodeRow} style={markStyle(mark)} data-node={n.node}>
      <NodeDot mark={mark} className={styles.nodeDot} />
      <span className={styles.nodeMain}>
        <span className={styles.nodeRowName}>{n.name || n.node}</span>
        <span className={styles.nodeUrl}>{n.url}</span>
        {error && (
          <span role="alert" className={styles.errorText}>
            {error}
          </span>
        )}
      </span>
      {canWrite && (
        <button
          type="button"
          className={styles.smallButton}
          onClick={() => void follow()}
          disabled={busy}
          aria-label={`Follow ${n.name}`}
        >
          {busy ? 'Following…' : 'Follow'}
        </button>
      )}
    </li>
  );
}

function AddByAddress() {
  const node = useNodeController();
  const id = useId();
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const problem = addressError(value);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError('');
    setDone('');
    try {
      const f = await node.mesh.follow(value);
      setValue('');
      setDone(`Following ${f.name || f.url}.`);
    } catch (err) {
      // the address stays in the field, to be corrected
      setError(toApiError(err).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} aria-label="Add a node by address" noValidate className={styles.addForm}>
      <label htmlFor={`${id}-addr`} className={styles.subheading}>
        Add a node by address
      </label>
      <div className={styles.inlineForm}>
        <input
          id={`${id}-addr`}
          className={styles.input}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setError('');
            setDone('');
          }}
          placeholder="192.168.1.20:7700"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-err` : `${id}-help`}
          disabled={busy}
        />
        <button type="submit" className={styles.secondary} disabled={busy}>
          {busy ? 'Following…' : 'Follow'}
        </button>
      </div>
      {error ? (
        <p id={`${id}-err`} role="alert" className={styles.errorText}>
          {error}
        </p>
      ) : (
        <p id={`${id}-help`} className={styles.muted} role="status" aria-live="polite">
          {done || 'host:port or the URL another node shares (its link or QR code).'}
        </p>
      )}
    </form>
  );
}

function AutoFollow({ on, canWrite }: { on: boolean; canWrite: boolean }) {
  const node = useNodeController();
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function toggle() {
    setBusy(true);
    setError('');
    try {
      await node.mesh.setAutoFollow(!on);
    } catch (e) {
      setError(toApiError(e).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className={styles.toggleRow}>
      <button
        id={`${id}-switch`}
        type="button"
        role="switch"
        aria-checked={on}
        className={styles.switch}
        onClick={() => void toggle()}
        disabled={!canWrite || busy}
        aria-labelledby={`${id}-label`}
        aria-describedby={`${id}-help`}
      >
        <span className={styles.switchKnob} aria-hidden="true" />
      </button>
      <span className={styles.toggleLabel}>
        <span id={`${id}-label`}>Follow every node found nearby</span>
        <span id={`${id}-help`} className={styles.toggleHelp}>
          {on ? 'On' : 'Off'}. For a network whose nodes you trust.
        </span>
      </span>
      {error && (
        <p role="alert" className={styles.errorText}>
          {error}
        </p>
      )}
    </div>
  );
}

import { useEffect, useId, useState, type FormEvent } from 'react';
import { Avatar } from '../../../lib/Avatar';
import { copyText } from '../../../lib/clipboard';
import { CopyIcon, EyeIcon, RefreshIcon } from '../../../lib/icons';
import { TimeAgo } from '../../../lib/TimeAgo';
import { toApiError } from '../../../transport';
import { nameLengthError } from '../../posts/api/limits';
import { useConnection, useNodeController, useNodeState, usePeers } from '../hooks/nodeContext';
import { NodesSection } from './NodesSection';
import { QrCode } from './QrCode';
import a11y from '../../../styles/a11y.module.css';
import styles from './NodePanel.module.css';

/** shareURL is url with the token in the fragment, which never reaches a server log. */
export function shareURL(url: string, token: string): string {
  const u = url.replace(/#.*$/, '');
  return token ? `${u}#token=${encodeURIComponent(token)}` : u;
}

/** NodePanel: where to open the feed, who is online, token and name. */
export function NodePanel() {
  const node = useNodeController();
  const state = useNodeState();
  return (
    <div className={styles.panel}>
      <section className={styles.section} aria-labelledby="node-heading">
        <h2 id="node-heading" className={styles.heading}>
          {node.kind === 'desktop' ? 'This node' : 'Node'}
        </h2>
        <p className={styles.nodeName}>{state.info?.node.name ?? '…'}</p>
        {state.info?.listenError && (
          <p className={styles.warning} role="alert">
            The LAN server is not running: {state.info.listenError}. Others on the network can't see this feed
            until it starts.
          </p>
        )}
        {state.infoError && !state.info && <p className={styles.muted}>Node details unavailable right now.</p>}
        {state.info?.version && <p className={styles.muted}>lanfeed {state.info.version}</p>}
      </section>
      <ShareSection />
      <NodesSection />
      <PeersSection />
      {node.kind === 'desktop' ? <PairingSection /> : <WriteAccessSection />}
      <NameSection />
    </div>
  );
}

function ShareSection() {
  const node = useNodeController();
  const state = useNodeState();
  const urls = state.info?.urls ?? [];
  const [selected, setSelected] = useState(0);
  const [copied, setCopied] = useState<string | null>(null);
  const url = urls[Math.min(selected, urls.length - 1)];
  // the desktop shares write access; a browser shares a read-only link
  const withToken = node.kind === 'desktop' ? state.token : '';

  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(null), 1500);
    return () => clearTimeout(t);
  }, [copied]);

  if (!urls.length) return null;
  return (
    <section className={styles.section} aria-labelledby="share-heading">
      <h2 id="share-heading" className={styles.heading}>
        Open on the LAN
      </h2>
      <ul className={styles.urls}>
        {urls.map((u, i) => (
          <li key={u} className={i === selected ? styles.urlSelected : styles.url}>
            <button
              type="button"
              className={styles.urlText}
              onClick={() => setSelected(i)}
              aria-pressed={i === selected}
              aria-label={`Show QR code for ${u}`}
            >
              {u}
            </button>
            <button
              type="button"
              className={styles.iconButton}
              onClick={() => void copyText(u).then((ok) => ok && setCopied(u))}
              aria-label={`Copy ${u}`}
              title="Copy address"
            >
              <CopyIcon />
            </button>
          </li>
        ))}
      </ul>
      {url && (
        <figure className={styles.qrFigure}>
          <QrCode
            text={shareURL(url, withToken)}
            label={withToken ? `QR code: ${url} with write access` : `QR code: ${url}`}
          />
          <figcaption className={styles.muted}>
            {withToken ? 'Scan with a phone to read and write.' : 'Scan with a phone to open the feed.'}
          </figcaption>
        </figure>
      )}
      {withToken && url && (
        <button
          type="button"
          className={styles.secondary}
          onClick={() => void copyText(shareURL(url, withToken)).then((ok) => ok && setCopied('link'))}
        >
          <CopyIcon /> Copy link with write access
        </button>
      )}
      <span role="status" aria-live="polite" className={styles.copied}>
        {copied ? 'Copied' : ''}
      </span>
    </section>
  );
}

function PeersSection() {
  const peers = usePeers();
  const state = useNodeState();
  return (
    <section className={styles.section} aria-labelledby="peers-heading">
      <h2 id="peers-heading" className={styles.heading}>
        Online now <span className={styles.count}>{peers.length}</span>
      </h2>
      {peers.length === 0 ? (
        <p className={styles.muted}>No browsers connected.</p>
      ) : (
        <ul className={styles.peers}>
          {peers.map((p) => (
            <li key={p.id} className={styles.peer}>
              <Avatar name={p.name} size={28} />
              <span className={styles.peerName}>
                {p.name}
                {state.self?.id === p.id && <span className={styles.you}> (you)</span>}
              </span>
              <span className={styles.muted}>
                since <TimeAgo iso={p.since} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function PairingSection() {
  const node = useNodeController();
  const { token } = useNodeState();
  const [shown, setShown] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  async function rotate() {
    setBusy(true);
    setError('');
    try {
      await node.rotateToken();
      setMessage('New token made. Old links and paired browsers can no longer write.');
    } catch (e) {
      setError(toApiError(e).message);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <section className={styles.section} aria-labelledby="token-heading">
      <h2 id="token-heading" className={styles.heading}>
        Pairing token
      </h2>
      <p className={styles.muted}>Browsers with this token can write. Share it only with people you trust.</p>
      <div className={styles.tokenRow}>
        <code className={styles.token} aria-label={shown ? 'Pairing token' : 'Pairing token, hidden'}>
          {shown ? token || '…' : '•'.repeat(Math.min(token.length || 12, 24))}
        </code>
        <button
          type="button"
          className={styles.iconButton}
          onClick={() => setShown((s) => !s)}
          aria-pressed={shown}
          aria-label={shown ? 'Hide token' : 'Show token'}
          title={shown ? 'Hide' : 'Show'}
        >
          <EyeIcon />
        </button>
        <button
          type="button"
          className={styles.iconButton}
          onClick={() => void copyText(token).then((ok) => setMessage(ok ? 'Token copied.' : 'Could not copy.'))}
          aria-label="Copy token"
          title="Copy"
          disabled={!token}
        >
          <CopyIcon />
        </button>
      </div>
      {confirming ? (
        <div className={styles.confirm} role="alertdialog" aria-labelledby="rotate-q">
          <p id="rotate-q">Make a new token? Everyone using the old one loses write access.</p>
          <div className={styles.row}>
            <button type="button" className={styles.ghost} onClick={() => setConfirming(false)} disabled={busy} autoFocus>
              Cancel
            </button>
            <button type="button" className={styles.danger} onClick={() => void rotate()} disabled={busy}>
              {busy ? 'Regenerating…' : 'Regenerate'}
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className={styles.secondary} onClick={() => setConfirming(true)}>
          <RefreshIcon /> Regenerate token
        </button>
      )}
      <p role="status" aria-live="polite" className={styles.muted}>
        {message}
      </p>
      {error && (
        <p role="alert" className={styles.errorText}>
          {error}
        </p>
      )}
    </section>
  );
}

function WriteAccessSection() {
  const node = useNodeController();
  const { token } = useNodeState();
  const conn = useConnection();
  return (
    <section className={styles.section} aria-labelledby="access-heading">
      <h2 id="access-heading" className={styles.heading}>
        Write access
      </h2>
      {token ? (
        <>
          <p className={styles.muted}>This browser has a pairing token and can write.</p>
          <button type="button" className={styles.secondary} onClick={() => node.setToken('')}>
            Forget token
          </button>
        </>
      ) : (
        <>
          <p className={styles.muted}>
            {conn.tokenRejected
              ? "That token is not this node's pairing token; it may have been regenerated. Ask the node's owner for the current one (desktop app's node panel, or lanfeedd serve output) and enter it above the feed."
              : "Read-only. Enter the node's pairing token above the feed, or open its write link; the node's owner finds both in the desktop app's node panel or in the output of lanfeedd serve."}
          </p>
        </>
      )}
    </section>
  );
}

function NameSection() {
  const node = useNodeController();
  const { name } = useNodeState();
  const id = useId();
  const [value, setValue] = useState(name);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  // a name that changes (read from the node, or just saved) replaces the field's text
  const [lastName, setLastName] = useState(name);
  if (name !== lastName) {
    setLastName(name);
    setValue(name);
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const v = value.trim();
    const problem = nameLengthError(v);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError('');
    try {
      await node.setName(v);
      setSaved(true);
      setTimeout(() => setSaved(false), 1500);
    } catch (err) {
      setError(toApiError(err).message);
    } finally {
      setBusy(false);
    }
  }

  const desktop = node.kind === 'desktop';
  return (
    <section className={styles.section} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className={styles.heading}>
        Display name
      </h2>
      <form onSubmit={(e) => void onSubmit(e)} className={styles.inlineForm} noValidate>
        <label htmlFor={`${id}-name`} className={a11y.srOnly}>
          {desktop ? 'Node name' : 'Your name'}
        </label>
        <input
          id={`${id}-name`}
          className={styles.input}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setError('');
          }}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-help ${error ? `${id}-err` : ''}`.trim()}
          disabled={busy}
          autoComplete="nickname"
        />
        <button type="submit" className={styles.secondary} disabled={busy || value.trim() === name}>
          {saved ? 'Saved' : 'Save'}
        </button>
      </form>
      <p id={`${id}-help`} className={styles.muted}>
        {desktop
          ? 'Shown to LAN peers and as the author of posts written here.'
          : 'Shown to others online and as the author of your posts.'}
      </p>
      {error && (
        <p id={`${id}-err`} role="alert" className={styles.errorText}>
          {error}
        </p>
      )}
    </section>
  );
}

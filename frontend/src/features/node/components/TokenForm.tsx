import { useId, useState, type FormEvent } from 'react';
import { useNodeController } from '../hooks/nodeContext';
import a11y from '../../../styles/a11y.module.css';
import styles from './NodePanel.module.css';

/** TokenForm lets a browser enter the pairing token to write. */
export function TokenForm() {
  const node = useNodeController();
  const id = useId();
  const [value, setValue] = useState('');

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    const v = value.trim();
    if (!v) return;
    node.setToken(v);
    setValue('');
  }

  return (
    <form onSubmit={onSubmit} className={styles.inlineFormCompact} aria-label="Enter pairing token">
      <label htmlFor={`${id}-token`} className={a11y.srOnly}>
        Pairing token
      </label>
      <input
        id={`${id}-token`}
        className={styles.input}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder="Pairing token"
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
      />
      <button type="submit" className={styles.primary} disabled={!value.trim()}>
        Unlock writing
      </button>
    </form>
  );
}

import qrcode from 'qrcode-generator';
import { useMemo } from 'react';
import styles from './NodePanel.module.css';

/**
 * qrPath draws the dark modules of text's QR code as one SVG path, in
 * module units, with a 4-module quiet zone. Returns the path and the size.
 */
export function qrPath(text: string): { d: string; size: number } {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const margin = 4;
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) d += `M${c + margin} ${r + margin}h1v1h-1z`;
    }
  }
  return { d, size: n + margin * 2 };
}

/** QrCode renders text as a QR code (drawn as SVG, never as HTML). */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { d, size } = useMemo(() => qrPath(text), [text]);
  return (
    <svg
      className={styles.qr}
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={label}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

import { createContext, useContext, type CSSProperties } from 'react';
import { nodeColor, type NodeColor } from './nodeColor';

/**
 * NodeMarksContext holds the marks of the nodes this page shows together
 * (nodeMarks: this node and the followed ones), so that they differ; the
 * app provides it. A node outside the set (one only nearby) draws its own
 * mark from its id.
 */
export const NodeMarksContext = createContext<ReadonlyMap<string, NodeColor>>(new Map());

/** markFor is node id's mark in marks, or the one its id gives. */
export function markFor(marks: ReadonlyMap<string, NodeColor>, id: string): NodeColor {
  return marks.get(id) ?? nodeColor(id);
}

/** useNodeMarks is the page's set of marks, for components that draw several nodes. */
export function useNodeMarks(): ReadonlyMap<string, NodeColor> {
  return useContext(NodeMarksContext);
}

/** useNodeMark is node id's mark on this page. */
export function useNodeMark(id: string): NodeColor {
  return markFor(useContext(NodeMarksContext), id);
}

/** markStyle sets the CSS variables the mark's colour is drawn with (--node-light, --node-dark). */
export function markStyle(c: NodeColor): CSSProperties {
  return { '--node-light': c.light, '--node-dark': c.dark } as CSSProperties;
}

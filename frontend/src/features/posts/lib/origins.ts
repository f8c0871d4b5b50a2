import type { Post } from '../../../transport';

/** Origins names the nodes posts come from, as this page knows them. */
export interface Origins {
  /** self is this node's id ('' until known). */
  self: string;
  /** names maps node ids to display names: this node's and the followed nodes'. */
  names: ReadonlyMap<string, string>;
  /** followed are the ids of the followed nodes, in the order the node lists them. */
  followed: readonly string[];
}

/** OriginLabel is how a post shows its node. */
export interface OriginLabel {
  id: string;
  name: string;
  mine: boolean; // the post belongs to this node
}

/** isMine tells whether a post belongs to this node; a post without an origin (an older node) does. */
export function isMine(post: Pick<Post, 'origin'>, o: Pick<Origins, 'self'>): boolean {
  return !post.origin || post.origin === o.self;
}

/** originLabel names a post's node; a node not known here is its id's last characters. */
export function originLabel(origin: string, o: Origins): OriginLabel {
  const mine = !origin || origin === o.self;
  const id = origin || o.self;
  const name = o.names.get(id) || (mine ? 'this node' : `node ${id.slice(-6)}`);
  return { id, name, mine };
}

/** hasUnknownOrigin tells whether a post comes from a node the page has no name for. */
export function hasUnknownOrigin(posts: readonly Post[], o: Origins): boolean {
  return posts.some((p) => p.origin && p.origin !== o.self && !o.names.has(p.origin));
}

/** allNodes is the filter that shows every post. */
export const allNodes = '';

/**
 * filterChoices are the nodes the feed can be narrowed to: this node first,
 * then every node that is followed or has posts in the feed, by name.
 */
export function filterChoices(posts: readonly Post[], o: Origins): OriginLabel[] {
  const ids = new Set<string>(o.followed);
  for (const p of posts) if (p.origin) ids.add(p.origin);
  if (o.self) ids.delete(o.self);
  const others = [...ids]
    .map((id) => originLabel(id, o))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return [originLabel(o.self, o), ...others];
}

/** filterPosts keeps the posts of node (allNodes: every post). */
export function filterPosts(posts: readonly Post[], node: string, o: Pick<Origins, 'self'>): readonly Post[] {
  if (node === allNodes) return posts;
  if (node === o.self) return posts.filter((p) => isMine(p, o));
  return posts.filter((p) => p.origin === node);
}

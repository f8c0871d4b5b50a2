import { FeedController } from '../features/posts/api/feedController';
import { NodeController } from '../features/node/api/nodeController';
import type { Transport } from '../transport';

/** Session ties one transport to the feed and node controllers. */
export interface Session {
  transport: Transport;
  feed: FeedController;
  node: NodeController;
  /** start connects the live stream, then reads the first page; returns stop. */
  start(): () => void;
}

export function createSession(transport: Transport): Session {
  const feed = new FeedController(transport);
  const node = new NodeController(transport);
  return {
    transport,
    feed,
    node,
    start() {
      const disconnect = transport.connect({
        open(hello) {
          feed.onOpen(hello);
          node.onOpen(hello);
        },
        posts: (env) => feed.onPosts(env),
        peers: (env) => node.onPeers(env),
        reset: (epoch) => feed.onReset(epoch),
        synced: (seq) => feed.onSynced(seq),
        ack: (post, seq) => feed.onAck(post, seq),
        status: (s) => node.onStatus(s),
      });
      // subscribed first: events during the first page's read are buffered
      feed.start();
      return () => {
        disconnect();
        feed.stop();
      };
    },
  };
}

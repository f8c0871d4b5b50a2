import { useCallback, type ReactNode } from 'react';
import { useFeedController, useFeedStatus } from '../hooks/feedContext';
import { Composer } from './Composer';

export interface ComposerContainerProps {
  /** author sent with each post; undefined lets the node use its own name */
  author?: string;
  /** who the post will appear from, shown under the fields */
  postingAs: string;
  /** shown instead of the composer while this client may not write */
  readOnly: ReactNode;
}

/** ComposerContainer connects the Composer to the feed. */
export function ComposerContainer({ author, postingAs, readOnly }: ComposerContainerProps) {
  const controller = useFeedController();
  const { canWrite } = useFeedStatus();
  const publish = useCallback(
    async (draft: { title: string; body: string }) => {
      await controller.create(author ? { ...draft, author } : draft);
      // the new post is at the top: go there so it is seen
      window.scrollTo({ top: 0, behavior: 'smooth' });
    },
    [controller, author],
  );
  if (!canWrite) return <>{readOnly}</>;
  return <Composer onPublish={publish} author={postingAs} />;
}

// The live feed: one server-streaming Subscribe through Envoy, reopened with
// the client's positions whenever it ends (network loss, deploys, Resync for
// a reader that fell behind), so nothing is missed and nothing repeats.
import { messaging } from "./api";
import type { Position, SubscribeResponse } from "./gen/frevix/messaging/v1/messaging_pb";

export type FeedEvent = SubscribeResponse["event"];

export type Feed = { stop: () => void };

export function openFeed(
  positions: () => Omit<Position, "$typeName">[],
  onEvent: (event: FeedEvent) => void,
  onState: (connected: boolean) => void,
): Feed {
  const abort = new AbortController();
  void (async () => {
    let backoff = 500;
    while (!abort.signal.aborted) {
      try {
        const stream = messaging.subscribe({ positions: positions() }, { signal: abort.signal });
        for await (const item of stream) {
          onState(true);
          backoff = 500;
          // A Resync ends this stream; the loop resumes from our positions.
          if (item.event.case === "resync") break;
          onEvent(item.event);
        }
      } catch {
        // Reopened below unless we were stopped.
      }
      onState(false);
      if (abort.signal.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(backoff * 2, 15_000);
    }
  })();
  return { stop: () => abort.abort() };
}

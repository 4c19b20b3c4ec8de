// In-flight accounting for load-aware balancers (least-request, P2C): a request counts until its response
// body has been fully sent or abandoned, not just until the headers arrived. Only used when the balancer
// has onEnd, so other balancers keep the zero-copy native body.

export function onBodyDone(body: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      done();
    }
  };
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            finish();
            controller.close();
          } else controller.enqueue(value);
        } catch (e) {
          finish();
          controller.error(e);
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

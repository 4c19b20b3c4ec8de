// action: routes that answer at the edge (redirect, direct response) answer here; forwarding routes answer
// with the proxy loop (stages/proxy.ts).
import type { Route } from "../../../core/config/schema/index.ts";
import { redirectLocation } from "../../../core/routing/index.ts";
import type { Answer } from "../step.ts";

export function redirectAnswer(route: Route): Answer {
  const r = route.redirect!;
  return function redirectStage(_c, sy) {
    const location = redirectLocation(sy.url, r, sy.route!);
    return new Response(null, { status: r.status, headers: { location, "x-request-id": sy.requestId } });
  };
}

export function respondAnswer(route: Route): Answer {
  const r = route.respond!;
  return function directResponse(_c, sy) {
    return new Response(r.body, {
      status: r.status,
      headers: { "content-type": r.content_type, "x-request-id": sy.requestId },
    });
  };
}

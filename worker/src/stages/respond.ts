// respond: the route's response header modifiers, internal headers stripped, and the sticky-session cookie,
// applied to whatever answered (backend, redirect or direct response). Errors Switchyard generated itself
// are left as they are. Compiled per route: a route with none of the three has no respond step at all.
import { applyHeaderModifiers, type CompiledHeaderModifiers } from "../../../core/routing/index.ts";
import { type Step, writableResponse } from "../step.ts";

export function respondStep(
  internal: readonly string[],
  modifiers: CompiledHeaderModifiers | undefined,
  sticky: boolean,
): Step | undefined {
  if (internal.length === 0 && modifiers === undefined && !sticky) return undefined;
  // A sticky route whose client already holds a valid cookie writes nothing, and needs no copy of the response.
  const rewrites = internal.length > 0 || modifiers !== undefined;
  return {
    name: "respond",
    after: function respondStage(_c, sy, res, own) {
      if (own || (!rewrites && !sy.setCookie)) return res;
      const out = writableResponse(sy, res);
      const headers = out.headers;
      for (const name of internal) headers.delete(name);
      applyHeaderModifiers(headers, modifiers);
      if (sy.setCookie) headers.append("set-cookie", sy.setCookie);
      return out;
    },
  };
}

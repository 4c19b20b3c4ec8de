// What an HTTP health check's answer means: up when the status is in the expected list (default 200-399) and the
// body contains the expected text, if any. The reason string is what the health-change log line says.

export interface HttpCheckExpectation {
  /** Statuses that count as up; undefined: 200-399. */
  status?: readonly number[];
  /** Text the body must contain. */
  body?: string;
}

export interface CheckResult {
  ok: boolean;
  reason: string;
}

export const DEFAULT_UP_STATUSES: readonly [number, number] = [200, 399];

export function statusIsUp(status: number, expected: readonly number[] | undefined): boolean {
  if (expected) return expected.includes(status);
  return status >= DEFAULT_UP_STATUSES[0] && status <= DEFAULT_UP_STATUSES[1];
}

export function evaluateHttpCheck(
  status: number,
  body: string | undefined,
  e: HttpCheckExpectation,
): CheckResult {
  if (!statusIsUp(status, e.status))
    return { ok: false, reason: `status ${status} is not an expected status` };
  if (e.body !== undefined && !(body ?? "").includes(e.body))
    return { ok: false, reason: `status ${status} but the body does not contain ${JSON.stringify(e.body)}` };
  return { ok: true, reason: `status ${status}` };
}

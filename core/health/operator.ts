// Operator states of a backend, set at run time through the admin APIs of the worker and the sidecar (HAProxy's
// `set server state`): `ready` serves, `drain` takes no new connections or requests while the ones it has
// finish, `maint` is out of rotation and out of active health checks. One meaning for both runtimes.

export const OPERATOR_STATES = ["ready", "drain", "maint"] as const;
export type OperatorState = (typeof OPERATOR_STATES)[number];

export function isOperatorState(value: unknown): value is OperatorState {
  return (OPERATOR_STATES as readonly unknown[]).includes(value);
}

/** Whether the balancer may pick the backend for a new connection or request. */
export const takesNew = (state: OperatorState): boolean => state === "ready";

/** Whether active health checks probe the backend. */
export const probed = (state: OperatorState): boolean => state !== "maint";

/** The error text for a state that is not one of the three, for API answers. */
export const operatorStateProblem = (value: unknown): string =>
  `state must be one of ${OPERATOR_STATES.join(", ")} (got ${JSON.stringify(value)})`;

// Runtime operator actions on the sidecar's backends (POST /actions on the admin endpoint): read from a form or
// a JSON body, checked against the running config, and applied to the backends' live state. The state is kept
// in memory with the rest of a backend's state, so it survives reloads but not a restart.
import type { Config } from "../../core/config/index.ts";
import { isOperatorState, type OperatorState, operatorStateProblem } from "../../core/health/index.ts";

export interface OperatorAction {
  service: string;
  backends: string[];
  state: OperatorState;
}

export interface OperatorChange {
  service: string;
  backend: string;
  from: OperatorState;
  to: OperatorState;
}

/** A request the admin endpoint answers with `status` and the message. */
export class ActionError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * An action from form fields (`service`, `backend` once or more, `state`) or the same names in a JSON object
 * (`backend` a string or an array).
 */
export function parseAction(fields: Record<string, unknown>): OperatorAction {
  const { service, state } = fields;
  const backends = list(fields.backend);
  if (typeof service !== "string" || service === "") throw new ActionError(400, "service is required");
  if (backends.length === 0 || !backends.every((b) => typeof b === "string" && b !== ""))
    throw new ActionError(400, "backend is required: the backend's address as the config names it");
  if (!isOperatorState(state)) throw new ActionError(400, operatorStateProblem(state));
  return { service, backends: backends as string[], state };
}

/** Throws (404) unless the service is a TCP service of `config` and every backend one of its addresses. */
export function checkAction(config: Config | undefined, a: OperatorAction): void {
  const service = config?.services.find((s) => s.name === a.service);
  const addresses = service?.backends.map((b) => b.address);
  if (!service || addresses!.includes(undefined))
    throw new ActionError(404, `no TCP service named ${JSON.stringify(a.service)} in the running config`);
  for (const b of a.backends)
    if (!addresses!.includes(b))
      throw new ActionError(
        404,
        `service ${JSON.stringify(a.service)} has no backend ${JSON.stringify(b)} (it has ${addresses!.join(", ")})`,
      );
}

/** Operator states by service and address, as a --workers primary keeps them for the workers it starts. */
export class OperatorBook {
  readonly states = new Map<string, Map<string, OperatorState>>();

  set(a: OperatorAction): void {
    let service = this.states.get(a.service);
    if (!service) {
      service = new Map();
      this.states.set(a.service, service);
    }
    for (const b of a.backends) {
      if (a.state === "ready") service.delete(b);
      else service.set(b, a.state);
    }
  }

  /** Every non-ready state as actions, to replay on a worker. */
  actions(): OperatorAction[] {
    return [...this.states].flatMap(([service, m]) =>
      [...m].map(([backend, state]) => ({ service, backends: [backend], state })),
    );
  }
}

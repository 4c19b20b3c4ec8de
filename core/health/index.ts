// Pure health state machines shared by the worker and the sidecar.
export { type Ejection, type EjectionOptions, ejection, ejectionCap } from "./ejection.ts";
export { type Hysteresis, type HysteresisOptions, hysteresis } from "./hysteresis.ts";
export {
  isOperatorState,
  OPERATOR_STATES,
  type OperatorState,
  operatorStateProblem,
  probed,
  takesNew,
} from "./operator.ts";
export { inPanic } from "./panic.ts";

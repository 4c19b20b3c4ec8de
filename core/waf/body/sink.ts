// Where the body decoders put what they find: values for the detectors, structural findings for scoring.
import type { Anomaly } from "../anomalies.ts";
import type { Target } from "../inspect.ts";

export interface BodySink {
  targets: Target[];
  anomalies: Anomaly[];
}

/** Names in locations are cut to this length, so a location stays short whatever the body holds. */
export const NAME_IN_LOCATION = 64;

export const value = (sink: BodySink, location: string, raw: string) =>
  sink.targets.push({ part: "values", location, raw });
/** A body argument name; JSON keys are "json_names" (their paths are built here, so "[0]" is not the client's). */
export const name = (sink: BodySink, raw: string, location = "body_names") =>
  sink.targets.push({ part: "names", location, raw });

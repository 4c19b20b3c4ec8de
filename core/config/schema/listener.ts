// listeners: the sidecar's L4 ports and the TCP service each one balances.
import { z } from "zod";
import { DEFAULTS } from "../defaults.ts";
import { hostPort, name } from "../fields.ts";

export const LISTENER_PROTOCOLS = ["tcp"] as const;

export const listenerSchema = z
  .strictObject({
    name: name("listener"),
    listen: hostPort('Address the sidecar listens on, e.g. "0.0.0.0:6379" or "127.0.0.1:15432".'),
    protocol: z
      .enum(LISTENER_PROTOCOLS)
      .default(DEFAULTS.listener.protocol)
      .meta({ description: "Transport: tcp. Default tcp." }),
    service: z
      .string()
      .meta({ description: "Name of the TCP service whose backends receive the connections." }),
  })
  .meta({ description: "An L4 listener of the sidecar." });

export type Listener = z.output<typeof listenerSchema>;

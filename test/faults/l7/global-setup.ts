// Node side of the L7 fault scenarios: the chaos backends (spawn, kill, revive, modes) on a control port.
import type { TestProject } from "vitest/node";
import { startChaos } from "../../worker/chaos-servers.ts";

/// <reference path="../../worker/chaos.d.ts" />

export default async function setup(project: TestProject) {
  const chaos = await startChaos();
  project.provide("chaos", chaos.port);
  return () => chaos.close();
}

// Workerd side of chaos-servers.ts: spawn, steer, kill and inspect real backends from inside a test.
/// <reference path="./chaos.d.ts" />
import { inject } from "vitest";

const base = `http://127.0.0.1:${inject("chaos")}`;

async function control<T>(path: string, method = "POST"): Promise<T> {
  const res = await fetch(`${base}${path}`, { method });
  if (!res.ok) throw new Error(`chaos ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface BackendStats {
  requests: number;
  methods: Record<string, number>;
  attempts: string[];
}

export const chaos = {
  async spawn(mode = "ok", health = "ok"): Promise<number> {
    return (await control<{ port: number }>(`/spawn?mode=${mode}&health=${health}`)).port;
  },
  mode: (port: number, mode: string) => control(`/mode/${port}?mode=${mode}`),
  health: (port: number, health: "ok" | "fail") => control(`/mode/${port}?health=${health}`),
  kill: (port: number) => control(`/kill/${port}`),
  revive: (port: number) => control(`/revive/${port}`),
  stats: (port: number) => control<BackendStats>(`/stats/${port}`, "GET"),
};

export const backendUrl = (port: number) => `http://127.0.0.1:${port}`;

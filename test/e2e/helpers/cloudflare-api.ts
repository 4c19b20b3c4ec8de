// A local stand-in for the part of the Cloudflare API that `wrangler deploy` and `wrangler kv` call, for deploy
// tests without the internet (wrangler honours CLOUDFLARE_API_BASE_URL). It records what a deploy uploads (the
// script's multipart metadata: bindings, Durable Object migrations, cron triggers, compatibility date) and the
// KV writes, and refuses what the real API documents as refused: a variable over 5 KB. Static assets go through the
// documented three steps (upload session with a manifest, bucketed base64 uploads under the session's token, the
// completion token in the script's metadata); files already stored are not asked for again.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Cloudflare's documented per-variable limit (Workers limits: "Environment variable size: 5 KB"). */
export const VAR_LIMIT_BYTES = 5 * 1024;

export interface Binding {
  type: string;
  name: string;
  text?: string;
  json?: unknown;
  namespace_id?: string;
  class_name?: string;
  [k: string]: unknown;
}

export interface ScriptMetadata {
  main_module?: string;
  compatibility_date?: string;
  bindings: Binding[];
  migrations?: { old_tag?: string; new_tag?: string; steps?: unknown[] };
  assets?: { jwt: string; config?: Record<string, unknown> };
  [k: string]: unknown;
}

export interface Upload {
  script: string;
  metadata: ScriptMetadata;
  /** Manifest path → content of the static assets this upload's completion token stands for. */
  assets?: Map<string, Buffer>;
  /** Part names other than metadata: the modules. */
  modules: string[];
}

export interface KvValue {
  value: string;
  metadata?: unknown;
}

/** A test's control over the next calls: fail one route, as an outage or a refused write would. */
export type Fault = { method?: string; path: RegExp; status: number; message: string };

export class CloudflareApi {
  readonly uploads: Upload[] = [];
  /** name → the live script (the last accepted upload) and its migration tag. */
  readonly scripts = new Map<string, { upload: Upload; migrationTag?: string; etag: string }>();
  readonly kv = new Map<string, Map<string, KvValue>>();
  readonly schedules = new Map<string, string[]>();
  /** Every request, as "METHOD /path" without the account prefix. */
  readonly requests: string[] = [];
  #faults: (Fault & { pass: number })[] = [];
  /** Asset contents by manifest hash, kept across deploys as the real store keeps them. */
  readonly assetStore = new Map<string, Buffer>();
  /** Asset upload sessions by their upload token, and finished manifests by completion token. */
  #assetSessions = new Map<string, { manifest: AssetManifest; pending: Set<string>; completion: string }>();
  #assetCompletions = new Map<string, AssetManifest>();
  /** Uploaded versions not necessarily deployed, by id. */
  #versions = new Map<string, Upload>();
  #server: Server;
  url = "";

  constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e) => reply(res, 500, failure(10000, (e as Error).message)));
    });
  }

  async start(): Promise<this> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/client/v4`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  /** The matching request after `pass` successful ones fails with `status`, once. */
  fail(fault: Fault, pass = 0): void {
    this.#faults.push({ ...fault, pass });
  }

  namespace(id: string): Map<string, KvValue> {
    if (!this.kv.has(id)) this.kv.set(id, new Map());
    return this.kv.get(id)!;
  }

  /** The live script's bindings by name. */
  bindings(script: string): Map<string, Binding> {
    const s = this.scripts.get(script);
    return new Map((s?.upload.metadata.bindings ?? []).map((b) => [b.name, b]));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const path = url.pathname.replace(/^\/client\/v4/, "").replace(/^\/accounts\/[^/]+/, "");
    const method = req.method ?? "GET";
    this.requests.push(`${method} ${path}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const fault = this.#faults.findIndex((f) => (f.method ?? method) === method && f.path.test(path));
    const f = this.#faults[fault];
    if (f && f.pass-- === 0) {
      this.#faults.splice(fault, 1);
      return reply(res, f.status, failure(10013, f.message));
    }
    const route = this.#routes.find(([m, pattern]) => m === method && pattern.test(path));
    if (!route) return reply(res, 404, failure(7003, `the stand-in does not serve ${method} ${path}`));
    const params = path.match(route[1])!.slice(1);
    return route[2]({ params, url, body, req, res });
  }

  /** What wrangler deploy and wrangler kv call, each as [method, path, handler]. */
  #routes: [string, RegExp, (c: Call) => unknown][] = [
    [
      "GET",
      /^\/workers\/services\/([^/]+)$/,
      ({ params: [name], res }) => {
        if (!this.scripts.has(name!)) {
          return reply(res, 404, failure(10007, "This Worker does not exist on your account."));
        }
        const script = this.#scriptInfo(name!);
        reply(res, 200, ok({ id: name, default_environment: { environment: "production", script } }));
      },
    ],
    // A new worker (or one with pending migrations) is uploaded whole; an existing one as a version, then deployed.
    ["PUT", /^\/workers\/scripts\/([^/]+)$/, (c) => this.#upload(c)],
    ["POST", /^\/workers\/scripts\/([^/]+)\/versions$/, (c) => this.#upload(c, true)],
    [
      "POST",
      /^\/workers\/scripts\/([^/]+)\/deployments$/,
      ({ body, res }) => {
        const { versions } = JSON.parse(body.toString()) as {
          versions: { version_id: string; percentage: number }[];
        };
        const upload = this.#versions.get(versions[0]?.version_id ?? "");
        if (!upload || versions.length !== 1 || versions[0]!.percentage !== 100) {
          return reply(res, 400, failure(10021, "the stand-in deploys one uploaded version at 100%"));
        }
        this.#makeLive(upload);
        reply(res, 200, ok({ id: `deployment-${this.uploads.length}`, versions }));
      },
    ],
    [
      "GET",
      /^\/workers\/scripts\/([^/]+)\/deployments$/,
      ({ res }) => reply(res, 200, ok({ deployments: [] })),
    ],
    [
      "PATCH",
      /^\/workers\/scripts\/([^/]+)\/script-settings$/,
      ({ body, res }) => reply(res, 200, ok(JSON.parse(body.toString()))),
    ],
    ["POST", /^\/workers\/scripts\/([^/]+)\/assets-upload-session$/, (c) => this.#assetSession(c)],
    ["POST", /^\/workers\/assets\/upload$/, (c) => this.#assetUpload(c)],
    ["GET", /^\/workers\/scripts\/([^/]+)\/secrets$/, ({ res }) => reply(res, 200, ok([]))],
    ["GET", /^\/workers\/subdomain$/, ({ res }) => reply(res, 200, ok({ subdomain: "stand-in" }))],
    [
      "GET",
      /^\/workers\/workers\/([^/]+)$/,
      ({ params: [name], res }) =>
        reply(res, 200, ok({ id: name, name, subdomain: { enabled: true, previews_enabled: false } })),
    ],
    ["GET", /^\/workers\/scripts\/([^/]+)\/subdomain$/, ({ res }) => reply(res, 200, ok(SUBDOMAIN))],
    ["POST", /^\/workers\/scripts\/([^/]+)\/subdomain$/, ({ res }) => reply(res, 200, ok(SUBDOMAIN))],
    [
      "PUT",
      /^\/workers\/scripts\/([^/]+)\/schedules$/,
      ({ params: [name], body, res }) => {
        const crons = (JSON.parse(body.toString()) as { cron: string }[]).map((s) => s.cron);
        this.schedules.set(name!, crons);
        reply(res, 200, ok({ schedules: crons.map((cron) => ({ cron })) }));
      },
    ],
    ...(["GET", "PUT", "POST", "DELETE"] as const).map(
      (method) =>
        [method, /^\/storage\/kv\/namespaces\/([^/]+)\/(.*)$/, (c: Call) => this.#kv(c, method)] as [
          string,
          RegExp,
          (c: Call) => unknown,
        ],
    ),
  ];

  #scriptInfo(name: string) {
    const s = this.scripts.get(name)!;
    return {
      id: name,
      tag: `tag-${name}`,
      etag: s.etag,
      migration_tag: s.migrationTag,
      handlers: ["fetch", "scheduled"],
    };
  }

  async #upload({ params: [name = ""], req, body, res }: Call, asVersion = false) {
    const form = await new Request("http://stand-in/", {
      method: "PUT",
      headers: { "content-type": req.headers["content-type"] ?? "" },
      body,
    }).formData();
    const part = form.get("metadata");
    const metadata = JSON.parse(typeof part === "string" ? part : await part!.text()) as ScriptMetadata;
    for (const b of metadata.bindings) {
      const value = b.type === "plain_text" ? b.text : b.type === "json" ? JSON.stringify(b.json) : undefined;
      if (value !== undefined && Buffer.byteLength(value) > VAR_LIMIT_BYTES) {
        return reply(
          res,
          400,
          failure(
            10021,
            `Text binding '${b.name}' is over the size limit of 5 KB (${Buffer.byteLength(value)} bytes).`,
          ),
        );
      }
    }
    const assetBinding = metadata.bindings.find((b) => b.type === "assets");
    const manifest = metadata.assets ? this.#assetCompletions.get(metadata.assets.jwt) : undefined;
    if (metadata.assets && !manifest) {
      return reply(
        res,
        400,
        failure(10021, "assets.jwt is not a completion token of a finished asset upload"),
      );
    }
    if (assetBinding && !metadata.assets) {
      return reply(
        res,
        400,
        failure(10021, `binding '${assetBinding.name}' of type assets without assets.jwt`),
      );
    }
    const upload: Upload = {
      script: name,
      metadata,
      modules: [...form.keys()].filter((k) => k !== "metadata"),
      ...(manifest && {
        assets: new Map(Object.entries(manifest).map(([path, f]) => [path, this.assetStore.get(f.hash)!])),
      }),
    };
    this.uploads.push(upload);
    const id = `version-${this.uploads.length}`;
    if (asVersion) {
      this.#versions.set(id, upload);
      return reply(res, 200, ok({ id, resources: { script: { etag: `etag-${id}` } }, startup_time_ms: 1 }));
    }
    this.#makeLive(upload);
    reply(res, 200, ok({ ...this.#scriptInfo(name), startup_time_ms: 1 }));
  }

  /** Step 1: the manifest in, the token for the uploads and the hashes still missing out. */
  #assetSession({ body, res }: Call) {
    const { manifest } = JSON.parse(body.toString()) as { manifest?: AssetManifest };
    for (const [path, f] of Object.entries(manifest ?? {})) {
      if (!path.startsWith("/") || !/^[0-9a-f]{32}$/.test(f?.hash ?? "") || !(f.size <= ASSET_LIMIT_BYTES)) {
        return reply(
          res,
          400,
          failure(10021, `manifest entry ${path}: a /path, a 32-hex hash and a size ≤ 25 MiB`),
        );
      }
    }
    if (!manifest) return reply(res, 400, failure(10021, "an upload session needs a manifest"));
    const completion = token({ completion: this.#assetCompletions.size + 1 });
    const missing = [...new Set(Object.values(manifest).map((f) => f.hash))].filter(
      (h) => !this.assetStore.has(h),
    );
    if (missing.length === 0) {
      this.#assetCompletions.set(completion, manifest);
      return reply(res, 201, ok({ jwt: completion, buckets: [] }));
    }
    const jwt = token({ session: this.#assetSessions.size + 1 });
    this.#assetSessions.set(jwt, { manifest, pending: new Set(missing), completion });
    reply(res, 201, ok({ jwt, buckets: missing.map((h) => [h]) }));
  }

  /** Step 2: files by hash, base64, under the session's token; the last one gets the completion token. */
  async #assetUpload({ url, req, body, res }: Call) {
    const session = this.#assetSessions.get(req.headers.authorization?.replace(/^Bearer /, "") ?? "");
    if (!session) return reply(res, 401, failure(10001, "asset upload without a session token"));
    if (url.searchParams.get("base64") !== "true") {
      return reply(res, 400, failure(10021, "the stand-in takes bucketed uploads with base64=true"));
    }
    const form = await new Request("http://stand-in/", {
      method: "POST",
      headers: { "content-type": req.headers["content-type"] ?? "" },
      body,
    }).formData();
    for (const [hash, value] of form) {
      const size = Object.values(session.manifest).find((f) => f.hash === hash)?.size;
      const content = Buffer.from(typeof value === "string" ? value : await value.text(), "base64");
      if (!session.pending.has(hash) || content.length !== size) {
        return reply(
          res,
          400,
          failure(10021, `asset ${hash}: not asked for in this session, or not its size`),
        );
      }
      this.assetStore.set(hash, content);
      session.pending.delete(hash);
    }
    if (session.pending.size > 0) return reply(res, 200, ok({}));
    this.#assetCompletions.set(session.completion, session.manifest);
    reply(res, 201, ok({ jwt: session.completion }));
  }

  #makeLive(upload: Upload): void {
    const previous = this.scripts.get(upload.script);
    const migrationTag = upload.metadata.migrations?.new_tag ?? previous?.migrationTag;
    this.scripts.set(upload.script, {
      upload,
      migrationTag,
      etag: `etag-${this.uploads.indexOf(upload) + 1}`,
    });
  }

  #kv({ params: [id = "", rest = ""], url, body, res }: Call, method: string) {
    const ns = this.namespace(id);
    if (rest === "keys" && method === "GET") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = [...ns.keys()].filter((k) => k.startsWith(prefix)).sort();
      const result = keys.map((name) => ({
        name,
        ...(ns.get(name)!.metadata ? { metadata: ns.get(name)!.metadata } : {}),
      }));
      return reply(res, 200, { ...ok(result), result_info: { count: result.length, cursor: "" } });
    }
    if (rest === "bulk" && method === "PUT") {
      const entries = JSON.parse(body.toString()) as {
        key: string;
        value: string;
        metadata?: unknown;
        base64?: boolean;
      }[];
      for (const e of entries) {
        const value = e.base64 ? Buffer.from(e.value, "base64").toString() : e.value;
        ns.set(e.key, { value, ...(e.metadata !== undefined ? { metadata: e.metadata } : {}) });
      }
      return reply(res, 200, ok({ successful_key_count: entries.length, unsuccessful_keys: [] }));
    }
    if ((rest === "bulk/delete" && method === "POST") || (rest === "bulk" && method === "DELETE")) {
      const keys = JSON.parse(body.toString()) as string[];
      for (const k of keys) ns.delete(k);
      return reply(res, 200, ok({ successful_key_count: keys.length, unsuccessful_keys: [] }));
    }
    const value = rest.match(/^values\/(.+)$/);
    if (value && method === "GET") {
      const entry = ns.get(decodeURIComponent(value[1]!));
      if (!entry) return reply(res, 404, failure(10009, "get: 'key not found'"));
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(entry.value);
      return;
    }
    const meta = rest.match(/^metadata\/(.+)$/);
    if (meta && method === "GET") {
      const entry = ns.get(decodeURIComponent(meta[1]!));
      if (!entry) return reply(res, 404, failure(10009, "metadata: 'key not found'"));
      return reply(res, 200, ok(entry.metadata ?? null));
    }
    reply(res, 404, failure(7003, `the stand-in does not serve ${method} KV ${rest}`));
  }
}

interface Call {
  params: string[];
  url: URL;
  body: Buffer;
  req: IncomingMessage;
  res: ServerResponse;
}

type AssetManifest = Record<string, { hash: string; size: number }>;

/** Workers static assets: 25 MiB per file (Workers limits). */
const ASSET_LIMIT_BYTES = 25 * 1024 * 1024;

/** A JWT-shaped token: wrangler reads its payload (upload mode, expiry) but cannot check the signature. */
function token(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}.stand-in`;
}

const SUBDOMAIN = { enabled: true, previews_enabled: false };
const ok = (result: unknown) => ({ success: true, errors: [], messages: [], result });
const failure = (code: number, message: string) => ({
  success: false,
  errors: [{ code, message }],
  messages: [],
  result: null,
});

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

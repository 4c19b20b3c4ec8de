// npm run release:sidecar: the sidecar as software to install on a linux-x64 VM, in dist/sidecar/:
//   switchyard-l4-<v>-linux-x64.tar.gz   bin/switchyard-l4 (one executable: Node 22 with the bundle inside, a
//                                        single executable application), lib/switchyard-l4/switchyard-l4.cjs
//                                        (the same bundle, for a machine that has Node >= 22), the prebuilt engine
//                                        in lib/switchyard-l4/prebuilds/, the systemd unit, an example config, the schema
//   switchyard-l4_<v>_amd64.deb          the same executable, engine, unit and config, for `apt install ./…deb`
// Nothing in them needs npm, a compiler or a registry on the VM.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { build } from "esbuild";
import { PREBUILD_FILE } from "../l4-sidecar/src/io/prebuild.ts";

const root = path.resolve(import.meta.dirname, "..");
const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
const out = path.join(root, "dist/sidecar");
const work = path.join(out, "work");
const name = `switchyard-l4-${version}-linux-x64`;
const tree = path.join(work, name);
const lib = path.join(tree, "lib/switchyard-l4");
const prebuilds = path.join(lib, "prebuilds/linux-x64");
// The fuse Node looks for to know a blob was injected (Node's single-executable-applications docs).
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

const sh = (cmd: string, args: string[], cwd = root) => execFileSync(cmd, args, { cwd, stdio: "inherit" });
const mib = (file: string) => `${(statSync(file).size / 1024 / 1024).toFixed(1)} MiB`;

if (process.platform !== "linux" || process.arch !== "x64") {
  throw new Error(
    `release:sidecar builds for linux-x64 and runs there (this is ${process.platform}-${process.arch})`,
  );
}
rmSync(out, { recursive: true, force: true });
for (const d of [path.join(tree, "bin"), prebuilds, path.join(tree, "etc")])
  mkdirSync(d, { recursive: true });

// 1. One CommonJS bundle (a single executable application runs CommonJS): no TypeScript, no node_modules.
const bundle = path.join(lib, "switchyard-l4.cjs");
await build({
  entryPoints: [path.join(root, "l4-sidecar/src/release.ts")],
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node22",
  // ESM builds first: jsonc-parser's UMD main loads its parts with a require() a bundler cannot follow.
  mainFields: ["module", "main"],
  // native.ts resolves its development build relative to import.meta.url, which CommonJS spells __filename.
  define: { "import.meta.url": "__import_meta_url" },
  banner: { js: `const __import_meta_url = require("node:url").pathToFileURL(__filename).href;` },
  legalComments: "linked",
  logLevel: "warning",
});

// 2. The native engine, built here, under the name node-gyp-build's layout gives it.
sh("bash", [path.join(root, "l4-sidecar/native/build.sh")]);
copyFileSync(path.join(root, "l4-sidecar/native/build/engine.node"), path.join(prebuilds, PREBUILD_FILE));

// 3. The single executable: this project's Node 22 binary with the bundle injected (postject), stripped of
//    debug symbols first (the dynamic symbols the engine links against stay).
const seaConfig = path.join(work, "sea-config.json");
const blob = path.join(work, "sea.blob");
writeFileSync(
  seaConfig,
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }),
);
sh(process.execPath, ["--experimental-sea-config", seaConfig]);
const exe = path.join(tree, "bin/switchyard-l4");
copyFileSync(process.execPath, exe);
chmodSync(exe, 0o755);
sh("strip", ["--strip-debug", exe]);
const postject = path.join(path.dirname(createRequire(import.meta.url).resolve("postject")), "cli.js");
sh(process.execPath, [postject, exe, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE]);

// 4. Unit, example config (pointing at the schema shipped beside it), schema, licence notes.
copyFileSync(
  path.join(root, "l4-sidecar/deploy/switchyard-l4.service"),
  path.join(tree, "etc/switchyard-l4.service"),
);
const example = JSON.parse(readFileSync(path.join(root, "examples/sidecar.json"), "utf8")) as Record<
  string,
  unknown
>;
example.$schema = "/usr/share/switchyard-l4/switchyard.schema.json";
writeFileSync(path.join(tree, "etc/sidecar.json"), `${JSON.stringify(example, null, 2)}\n`);
copyFileSync(path.join(root, "switchyard.schema.json"), path.join(lib, "switchyard.schema.json"));

// 5. The tarball.
const tarball = path.join(out, `${name}.tar.gz`);
sh("tar", ["-C", work, "--owner=0", "--group=0", "-czf", tarball, name]);

// 6. The .deb: /usr/bin, /usr/lib/switchyard-l4, the unit, the config as a conffile.
const deb = path.join(work, "deb");
const put = (from: string, to: string, mode = 0o644) => {
  const target = path.join(deb, to);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(from, target);
  chmodSync(target, mode);
};
put(exe, "usr/bin/switchyard-l4", 0o755);
put(path.join(prebuilds, PREBUILD_FILE), `usr/lib/switchyard-l4/prebuilds/linux-x64/${PREBUILD_FILE}`);
put(path.join(tree, "etc/switchyard-l4.service"), "lib/systemd/system/switchyard-l4.service");
put(path.join(tree, "etc/sidecar.json"), "etc/switchyard/sidecar.json");
put(path.join(root, "switchyard.schema.json"), "usr/share/switchyard-l4/switchyard.schema.json");
mkdirSync(path.join(deb, "DEBIAN"), { recursive: true });
const installedKb = Number(execFileSync("du", ["-sk", "--exclude=DEBIAN", deb]).toString().split("\t")[0]);
writeFileSync(
  path.join(deb, "DEBIAN/control"),
  `Package: switchyard-l4
Version: ${version}
Architecture: amd64
Maintainer: Switchyard maintainers <switchyard@users.noreply.github.com>
Installed-Size: ${installedKb}
Depends: libc6 (>= 2.28), libstdc++6 (>= 8), libgcc-s1
Section: net
Priority: optional
Homepage: https://github.com/switchyard/switchyard
Description: Switchyard L4 sidecar: a TCP/UDP load balancer for VMs
 Balances TCP connections (databases, Redis, gRPC, custom protocols) and UDP
 datagrams across backends, with health checks, TLS SNI routing and the PROXY
 protocol, from the same config as the Switchyard edge worker. One executable
 (Node.js 22 built in) and a native data path; no npm and no compiler needed.
`,
);
writeFileSync(path.join(deb, "DEBIAN/conffiles"), "/etc/switchyard/sidecar.json\n");
// Not enabled or started: the example config names example backends; edit it, then `systemctl enable --now`.
writeFileSync(
  path.join(deb, "DEBIAN/postinst"),
  `#!/bin/sh
set -e
if [ "$1" = "configure" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
`,
);
chmodSync(path.join(deb, "DEBIAN/postinst"), 0o755);
const debFile = path.join(out, `switchyard-l4_${version}_amd64.deb`);
// zstd: Debian's dpkg reads it since 1.21.18 (bookworm), and it packs the 120 MB executable in seconds where xz takes minutes.
sh("dpkg-deb", ["--root-owner-group", "-Zzstd", "--build", deb, debFile]);

rmSync(work, { recursive: true, force: true });
console.log(`\nsidecar release ${version} (linux-x64) in ${path.relative(root, out)}/:`);
console.log(`  ${path.basename(tarball)}  ${mib(tarball)}`);
console.log(`  ${path.basename(debFile)}  ${mib(debFile)}`);

// The dashboard page: worker/assets/dashboard.html, a Workers static asset (the ASSETS binding), so its markup,
// style and script stay outside the worker bundle and its size limit. The page holds no data, so it is served
// without the token; the admin prefix it calls back to is set on <body> here.
import { ProxyError } from "../errors.ts";

/** The page for an admin API mounted at `prefix` (which ends with "/"), from the assets binding. */
export async function dashboardPage(assets: Fetcher | undefined, url: string, prefix: string) {
  // The asset server's default html_handling serves dashboard.html at /dashboard.
  const page = await assets?.fetch(new URL("/dashboard", url));
  if (page?.status !== 200) {
    await page?.body?.cancel();
    throw new ProxyError(
      "SY_ADMIN_NO_DASHBOARD",
      'the dashboard page is a static asset: add [assets] with directory = "worker/assets", binding = "ASSETS" and run_worker_first = true to wrangler.toml (the admin API works without it)',
    );
  }
  return new HTMLRewriter()
    .on("body", { element: (body) => void body.setAttribute("data-prefix", prefix) })
    .transform(page);
}

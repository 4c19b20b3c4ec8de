// Debian's chromium, headless, for the tests that look at a page the way a person would.
// Flags for a root, offline machine: without the background-networking ones chromium keeps dialling out into
// a closed network. launch() gives every run a new empty profile directory itself.
import { type Browser, chromium } from "playwright-core";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

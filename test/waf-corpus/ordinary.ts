// Generated ordinary traffic: what a shop, a forum and a JSON/GraphQL API receive every day, crossed with the
// parts it arrives in. Searches with quotes and SQL words, forum posts with code blocks and shell snippets,
// non-English text, JWTs and base64, long URLs, nested JSON, uploads, and prose with < and >.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template text in ordinary posts is literal on purpose.
import { multipart } from "./generate.ts";
import type { CorpusEntry } from "./types.ts";

const AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
  "curl/8.8.0",
  "okhttp/4.12.0",
  "python-requests/2.32.3",
  "Go-http-client/2.0",
  "PostmanRuntime/7.39.0",
];

export const SEARCHES = [
  "running shoes",
  "O'Neill jacket",
  "children's books",
  '"exact phrase" search',
  "it's a 'quoted' word",
  "select committee report",
  "union jack flag",
  "drop shipping suppliers",
  "delete account",
  "update drivers windows 11",
  "insert coin sound",
  "where is my order",
  "order by phone",
  "group by date excel",
  "having fun at the beach",
  "sleep mask",
  "benchmark gpu 2024",
  "table and chairs",
  "create account",
  "alter ego",
  "exec summary template",
  "1 or 2 bedroom flat",
  "5' 11\" in cm",
  "2 < 3",
  "a > b",
  "x >= 10",
  "price 10-20",
  "rock & roll",
  "salt & pepper",
  "cut & paste",
  "Q&A",
  "black & decker",
  "R&D tax credit",
  "AT&T",
  "tom & jerry",
  "50% off",
  "#hashtag",
  "c++ tutorial",
  "c# vs java",
  "node.js vs deno",
  "python -m venv",
  "what is ls in linux",
  "how to cat a file",
  "rm vs rmdir",
  "bash for loop",
  "powershell get-childitem",
  "select * from table sql tutorial",
  "javascript: the good parts",
  "alert dialog android",
  "onload vs domcontentloaded",
  "script tag async defer",
  "iframe embed youtube",
  "svg icons free",
  "eval in python",
  "system design interview",
  "exec vs spawn node",
  "../ relative path",
  "etc passwd file format",
  "win.ini location",
  "document.cookie explained",
  "cookie recipe",
  "session id vs token",
  "jndi tutorial",
  "log4j version check",
  "java.lang.String methods",
  "prototype design pattern",
  "__init__ python",
  "constructor in java",
  "require vs import",
  "child process node",
  "php include file",
  "wget download folder",
  "curl post json",
  "nc command linux",
  "ping 8.8.8.8 not working",
  "whoami command windows",
  "net user command",
  "ipconfig /all",
  "type command",
  "dir /s",
  "192.168.1.1 login",
  "localhost:3000 refused",
  "café près de moi",
  "München Wetter",
  "Ελληνικά μαθήματα",
  "北京 天气",
  "東京タワー 営業時間",
  "서울 맛집",
  "Привет мир",
  "مرحبا بالعالم",
  "שלום עולם",
  "नमस्ते दुनिया",
  "ร้านกาแฟ",
  "phở bò",
  "¿qué hora es?",
  "façade ménage",
  "naïve résumé",
  "Smørrebrød",
  "Zürich → Genève",
  "€100 gift card",
  "½ price",
  "smile 😀 emoji",
  "I ♥ NY",
  "5 stars!!!",
  "best pizza in N.Y.C.",
  "mr. & mrs. smith",
  "it's 100% worth it",
  "\"quotes\" and 'apostrophes'",
  "email me: a.b@example.com",
  "+1 (555) 010-9999",
  "SKU-12345-XL",
  "v2.3.1 release notes",
  "2024-06-01..2024-06-30",
  "tomorrow; or the day after",
  "first | second | third",
  "yes/no",
  "either-or",
  "1/2 cup sugar",
  "10 * 3 = 30",
  "(optional) extras",
  "[draft] proposal",
  "{placeholder}",
  "$19.99",
  "100$ budget",
  "~/Documents",
  "C:\\Users\\me",
];

export const POSTS = [
  "Thanks! Running `npm install` fixed it for me.",
  'Try this:\n```bash\nfor f in *.log; do gzip "$f"; done\n```\nIt compresses every log.',
  "My Dockerfile has `RUN apt-get update && apt-get install -y curl` and the build fails.",
  "In SQL you can write SELECT name FROM users WHERE id = 1; but use parameters in your code.",
  "The query `SELECT * FROM orders ORDER BY created_at DESC LIMIT 10` is slow, any idea?",
  "Use <code>&lt;div&gt;</code> for layout and keep <em>emphasis</em> for text.",
  "If a < b and b < c then a < c. That's transitivity.",
  "I scored 3 > 2 in the match; what a game <3",
  "Here's my JS:\n```js\nconst x = document.getElementById('app');\nx.addEventListener('click', () => console.log('hi'));\n```",
  "PHP tip: use htmlspecialchars($text) before echo.",
  "My .bashrc has: export PATH=$HOME/bin:$PATH",
  "Python: `import os; print(os.getcwd())` prints the working directory.",
  "Does anyone know why `git pull --rebase` keeps asking for my password?",
  "Steps: 1) open settings; 2) select privacy; 3) turn on tracking protection.",
  "The recipe: mix flour & sugar; add eggs; bake at 180°C for 25 min.",
  "Java question: why does `String s = null; s.length();` throw?",
  "Log output: [2024-06-01 12:00:01] ERROR connection refused (host=db port=5432)",
  "Dear support, my order #12345 hasn't arrived. Could you check? Regards, Jane",
  "Meeting moved to 3pm; bring the Q2 numbers & the draft.",
  "Vue template: {{ user.name }} shows the name, {{ items.length }} the count.",
  "In Go: if err != nil { return err }",
  "Rust: let v: Vec<i32> = Vec::new();",
  'C: int main(void) { printf("hello\\n"); return 0; }',
  "Markdown table:\n| name | age |\n| --- | --- |\n| cat | 3 |",
  "PowerShell: Get-ChildItem -Path C:\\Temp | Sort-Object Length",
  "The error says: Cannot read properties of undefined (reading 'map')",
  "Kubernetes: kubectl get pods -n kube-system",
  "I love this product!!! 10/10 would recommend :-)",
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
  "Ce produit est très bien, mais la livraison était lente. Merci !",
  "Das Produkt ist gut, aber die Lieferung war langsam.",
  "この商品はとても良いです。また買います。",
  "Товар хороший, доставка быстрая. Спасибо!",
  "Regex question: why does ^\\d{3}-\\d{4}$ not match 555-1234?",
  "cURL example: curl -H 'Accept: application/json' https://api.example.com/v1/items",
  "To undo: git reset --hard HEAD~1 (careful!)",
  "CSV export looks like: id,name,price\n1,Widget,9.99\n2,Gadget,19.99",
  "HTML entities: &amp; &lt; &gt; &quot; are escaped automatically.",
  "Email template: Hello {{first_name}}, your code is {{code}}.",
  'Excel formula =IF(A1>10,"high","low") works fine.',
];

const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const BASE64 = [
  "SGVsbG8sIFdvcmxkIQ==",
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "eyJyZXR1cm5UbyI6Ii9jYXJ0In0=",
  "dGhpcyBpcyBhIHRlc3Q/IHllcyEgKzEwMCU=",
  "U2FsdGVkX1+8Nv3m7ZGZqkz0b3T1bnV4bGl0ZQ==",
];
const URLS = [
  "https://shop.example.com/products/shoes?color=red&size=42&utm_source=newsletter&utm_medium=email",
  "https://www.example.org/a/very/long/path/with/many/segments/and-a-slug-that-goes-on-and-on/index.html?ref=home#section-3",
  "https://accounts.example.com/oauth/authorize?client_id=abc123&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=openid%20profile&state=xyz",
  "https://maps.example.com/@48.8566,2.3522,15z/data=!3m1!4b1",
  "https://cdn.example.net/img/2024/06/photo_1234.jpg?w=1200&h=800&fit=crop&q=80",
  "https://docs.example.dev/v2/reference/api#tag/Users/operation/getUser",
  "/checkout/step-2?cart=8f2a&coupon=SUMMER24",
  "https://example.com/search?q=%22quoted%22+text&page=2",
];
const GRAPHQL = [
  "query { viewer { login repositories(first: 5) { nodes { name stargazerCount } } } }",
  "query Product($id: ID!) { product(id: $id) { id title price { amount currency } images(first: 3) { url } } }",
  "mutation AddItem($input: AddItemInput!) { addItem(input: $input) { cart { id lines { quantity } } } }",
  'query { search(query: "O\'Reilly", type: BOOK) { edges { node { ... on Book { title author } } } } }',
  'subscription { orderUpdated(id: "42") { status updatedAt } }',
  "query($after: String) { users(after: $after, orderBy: {field: NAME, direction: ASC}) { pageInfo { hasNextPage } } }",
];
const JSON_BODIES: unknown[] = [
  {
    user: {
      name: "Ana O'Connor",
      email: "ana@example.com",
      address: { city: "Dublin", lines: ["1 Main St", "Apt 2"] },
    },
  },
  {
    order: {
      id: 1234,
      items: [
        { sku: "A-1", qty: 2 },
        { sku: "B-7", qty: 1 },
      ],
      notes: "Leave at door; ring bell",
    },
  },
  {
    filter: {
      and: [
        { field: "price", op: ">=", value: 10 },
        { field: "price", op: "<", value: 50 },
      ],
    },
    sort: "price asc",
  },
  { query: "select", options: { union: false, drop: true }, table: "results" },
  { comment: "Works great <3 but the box was damaged :(", rating: 4 },
  { settings: { theme: "dark", shortcuts: { save: "ctrl+s", run: "ctrl+enter" }, shell: "/bin/zsh" } },
  {
    event: "page_view",
    props: { path: "/docs/getting-started", referrer: "https://www.google.com/", ts: 1717171717 },
  },
  { code: "function f(a, b) { return a < b ? -1 : a > b ? 1 : 0; }", language: "javascript" },
  { sql_note: "We removed the 'DROP TABLE' migration from release 2.1", ticket: "OPS-99" },
  { deeply: { nested: { object: { with: { many: { levels: { value: "ok", list: [1, 2, 3] } } } } } } },
  { i18n: { fr: "Bonjour à tous", ja: "こんにちは", ar: "مرحبا", emoji: "🎉" } },
  { token: JWT, refresh: BASE64[2], expires_in: 3600 },
];
const FILES: Array<[string, string]> = [
  ["notes.txt", "Shopping list:\n- milk\n- eggs & bread\n- 2 < 3 apples"],
  ["data.csv", 'id,name,comment\n1,Ann,"likes \'select\' cheese"\n2,Bob,"rock & roll"'],
  ["script.py", "import sys\n\ndef main():\n    print(sys.argv)\n\nif __name__ == '__main__':\n    main()\n"],
  ["readme.md", "# Project\n\nRun `make && make install` then open http://localhost:8080\n"],
  ["config.json", '{"debug": false, "port": 8080, "hosts": ["a.example.com", "b.example.com"]}'],
];

const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length]!;

export function generateOrdinary(): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  const headers = (i: number): Record<string, string> => ({
    "user-agent": pick(AGENTS, i),
    accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "accept-language": pick(["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.5", "ja-JP", "fr-FR,fr;q=0.8"], i),
    referer: pick(
      ["https://www.google.com/", "https://shop.example.com/", "https://forum.example.org/t/123"],
      i,
    ),
    cookie: `_ga=GA1.2.${1000 + i}.1717000000; session=${JWT}; consent=${encodeURIComponent('{"ads":false}')}`,
  });
  SEARCHES.forEach((s, i) => {
    out.push({
      c: "search",
      path: "/search",
      args: { q: s, page: String(1 + (i % 3)) },
      headers: headers(i),
    });
    out.push({
      c: "search",
      method: "POST",
      path: "/search",
      form: { q: s, sort: "relevance" },
      headers: headers(i + 1),
    });
    out.push({
      c: "search",
      method: "POST",
      path: "/api/search",
      json: { query: s, filters: { inStock: true } },
      headers: headers(i + 2),
    });
  });
  POSTS.forEach((p, i) => {
    out.push({
      c: "forum",
      method: "POST",
      path: "/forum/reply",
      form: { topic: String(100 + i), body: p },
      headers: headers(i),
    });
    out.push({
      c: "forum",
      method: "POST",
      path: "/api/posts",
      json: { post: { body: p, tags: ["help", "question"] } },
      headers: headers(i + 3),
    });
    out.push({
      c: "forum",
      method: "POST",
      path: "/forum/new",
      body: multipart({ title: `Question ${i}`, body: p }),
      headers: headers(i + 5),
    });
  });
  JSON_BODIES.forEach((j, i) => {
    for (const m of ["POST", "PUT", "PATCH"])
      out.push({ c: "json", method: m, path: `/api/v1/things/${i}`, json: j, headers: headers(i) });
  });
  GRAPHQL.forEach((g, i) => {
    out.push({
      c: "graphql",
      method: "POST",
      path: "/graphql",
      json: { query: g, variables: { id: "gid://shop/Product/1" } },
      headers: headers(i),
    });
    out.push({ c: "graphql", path: "/graphql", args: { query: g }, headers: headers(i + 1) });
  });
  URLS.forEach((u, i) => {
    for (const name of ["next", "redirect_uri", "url", "return_to"]) {
      out.push({ c: "url", path: "/login", args: { [name]: u }, headers: headers(i) });
    }
  });
  BASE64.forEach((b, i) => {
    out.push({
      c: "token",
      path: "/verify",
      args: { token: b, sig: JWT.split(".")[2]! },
      headers: headers(i),
    });
    out.push({
      c: "token",
      method: "POST",
      path: "/upload/avatar",
      json: { image: `data:image/png;base64,${b}` },
      headers: headers(i),
    });
    out.push({
      c: "token",
      path: "/api/me",
      headers: { ...headers(i), authorization: `Bearer ${JWT}`, "x-request-id": b },
    });
  });
  FILES.forEach(([name, content], i) => {
    out.push({
      c: "upload",
      method: "POST",
      path: "/upload",
      body: multipart({ description: `file ${i}` }, { file: [name, content] }),
      headers: headers(i),
    });
  });
  // Browsing: pages, assets and API reads with the usual query strings, from every client.
  const PAGES = [
    "/",
    "/products/shoes",
    "/products/shoes/running-shoe-x",
    "/cart",
    "/account/orders",
    "/blog/2024/06/summer-sale",
    "/docs/api/v2/users",
    "/static/app.3f2a9c.js",
    "/images/logo@2x.png",
    "/fonts/inter-var.woff2",
    "/favicon.ico",
    "/robots.txt",
    "/sitemap.xml",
    "/.well-known/security.txt",
    "/api/v1/items?limit=20&offset=40",
  ];
  for (let i = 0; i < 300; i++) {
    const page = pick(PAGES, i);
    const [path, query] = page.split("?");
    const args: Record<string, string> = {};
    if (query) for (const [k, v] of new URLSearchParams(query)) args[k] = v;
    if (i % 3 === 0) args.utm_campaign = pick(["summer_sale", "newsletter-06", "retarget+fb"], i);
    if (i % 5 === 0) args.ref = pick(["home", "nav", "footer"], i);
    out.push({ c: "browse", path, args, headers: headers(i) });
  }
  return out;
}

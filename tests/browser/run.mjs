// Drives Debian's Chromium (headless) against a running `quorum serve --dev`, with no network
// beyond the server and one page of its own:
//
// 1. GraphiQL, served by the binary: the page loads (every asset from the server), the role
//    picker offers the printed tokens, a query runs and its data shows in the result pane.
// 2. A page from another origin (a dev server on another port, as a front-end team runs one):
//    a query over fetch (CORS) and a subscription over /graphql/ws that receives the change a
//    mutation then creates.
//
// Usage: node run.mjs http://127.0.0.1:PORT   (Chromium from QUORUM_CHROMIUM or /usr/bin/chromium)
// Exits 0 when both pass; prints what failed otherwise.

import { createServer } from "node:http";
import { chromium } from "playwright-core";

const server = process.argv[2];
if (!server) {
  console.error("usage: node run.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const executablePath = process.env.QUORUM_CHROMIUM || "/usr/bin/chromium";

// The page a front-end team's dev server would serve, on another origin.
const frontEnd = `<!doctype html><html><head><title>loading</title></head><body><pre id="log"></pre>
<script>
const api = ${JSON.stringify(server)};
const log = (line) => { document.getElementById("log").textContent += line + "\\n"; };
async function gql(token, query, variables) {
  const response = await fetch(api + "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + token },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}
(async () => {
  try {
    const tokens = await (await fetch(api + "/graphiql/dev-tokens")).json();
    const engineer = tokens.find((entry) => entry.role === "ENGINEER").token;
    const viewer = await gql(engineer, "{ viewer { subject } }");
    log("query " + viewer.data.viewer.subject);
    const socket = new WebSocket(api.replace("http", "ws") + "/graphql/ws", "graphql-transport-ws");
    const received = new Promise((resolve, reject) => {
      socket.onmessage = (message) => {
        const data = JSON.parse(message.data);
        if (data.type === "connection_ack") {
          socket.send(JSON.stringify({ type: "subscribe", id: "1",
            payload: { query: "subscription { changeEvents { action change { title } } }" } }));
          // graphql-transport-ws does not acknowledge a subscribe: give it a moment.
          setTimeout(async () => {
            const items = await gql(engineer, "{ configurationItems(first: 1) { nodes { id } } }");
            const created = await gql(engineer,
              "mutation($input: CreateChangeInput!) { createChange(input: $input) { number } }",
              { input: { title: "From the browser", affectedItemIds: [items.data.configurationItems.nodes[0].id] } });
            log("mutation " + created.data.createChange.number);
          }, 500);
        } else if (data.type === "next") {
          resolve(data.payload.data.changeEvents);
        } else if (data.type === "error") {
          reject(new Error(JSON.stringify(data.payload)));
        }
      };
      socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init",
        payload: { Authorization: "Bearer " + engineer } }));
      socket.onerror = () => reject(new Error("the socket failed"));
    });
    const event = await received;
    log("subscription " + event.action + " " + event.change.title);
    document.title = "passed";
  } catch (error) {
    log("error " + error);
    document.title = "failed";
  }
})();
</script></body></html>`;

const pageServer = createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  response.end(frontEnd);
});
await new Promise((resolve) => pageServer.listen(0, "127.0.0.1", resolve));
const frontOrigin = `http://127.0.0.1:${pageServer.address().port}`;

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // No name resolves but loopback: a CDN request fails here as it would offline.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
  ],
});
const failures = [];
try {
  const context = await browser.newContext();
  // Nothing beyond the server and the front-end page: any other request fails the test.
  const outside = [];
  context.on("request", (request) => {
    const url = request.url();
    const wsServer = server.replace("http", "ws");
    if (!(url.startsWith(server) || url.startsWith(frontOrigin) || url.startsWith(wsServer))) {
      outside.push(url);
    }
  });

  // 1. GraphiQL.
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("graphiql page error:", error.message));
  page.on("console", (message) => {
    if (message.type() === "error") console.error("graphiql console:", message.text());
  });
  // The page's default query asks for the viewer (`?query=` would be GraphQL over GET).
  await page.goto(`${server}/graphql?role=ENGINEER`);
  await page.waitForSelector(".graphiql-execute-button", { timeout: 30000 });
  const roles = await page.$$eval("#quorum-role option", (options) => options.map((o) => o.dataset.role));
  if (!roles.includes("CHANGE_MANAGER")) {
    failures.push(`the role picker offers ${JSON.stringify(roles)}`);
  }
  await page.click(".graphiql-execute-button");
  const result = await page.waitForFunction(
    () => {
      const pane = document.querySelector(".graphiql-response");
      return pane && pane.textContent.includes("dev.engineer") ? pane.textContent : false;
    },
    null,
    { timeout: 30000 },
  ).then((handle) => handle.jsonValue()).catch(() => null);
  if (!result) {
    failures.push("GraphiQL did not show the query's data");
  } else {
    console.log("graphiql: the query ran and showed", result.replace(/\s+/g, " ").slice(0, 120));
  }

  // 2. A page on another origin: CORS, and a subscription.
  const front = await context.newPage();
  await front.goto(frontOrigin);
  await front.waitForFunction(() => document.title !== "loading", null, { timeout: 30000 })
    .catch(() => null);
  const title = await front.title();
  const logged = await front.$eval("#log", (element) => element.textContent);
  console.log("front end (" + frontOrigin + "):\n" + logged.trim());
  if (title !== "passed") {
    failures.push(`the cross-origin page did not pass: ${logged.trim()}`);
  }
  if (outside.length) {
    failures.push(`requests beyond the server: ${outside.join(", ")}`);
  }
} finally {
  await browser.close();
  pageServer.close();
}
if (failures.length) {
  console.error("FAILED:\n- " + failures.join("\n- "));
  process.exit(1);
}
console.log("browser test passed");

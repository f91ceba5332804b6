// The REST node and the in-process mock host through the SDK (issue 26, items 1-3):
// runNodeWithInputs answers with the body as data and the HTTP details in metadata; the mock
// host behaves like httpbin; GraphQL is not mocked; a REST step with HTTP >= 400 fails but
// keeps its output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerType, NodeType, ExecutionStatus } from "@avaprotocol/types";
import { signedIn } from "./helpers.mjs";

const MOCK = "https://mock-api.ap-aggregator.local";

const rest = (url, extra = {}) => ({
  id: "r",
  name: "call",
  type: NodeType.RestAPI,
  data: { url, method: "GET", body: "", headers: {}, ...extra },
});

test("runNodeWithInputs on a REST node: body as data, HTTP details in metadata", async () => {
  const { client } = await signedIn();
  const ok = await client.runNodeWithInputs({
    node: rest(`${MOCK}/anything/orders?id=7&flag`, { method: "POST", body: '{"qty": 3}', headers: { "X-Trace": "abc" } }),
  });
  assert.equal(ok.success, true, ok.error);
  assert.deepEqual(ok.data.args, { id: "7", flag: "" });
  assert.deepEqual(ok.data.data, { qty: 3 });
  assert.equal(ok.data.method, "POST");
  assert.equal(ok.data.url, `${MOCK}/anything/orders?id=7&flag`);
  assert.equal(ok.data.headers["X-Trace"], "abc");
  assert.equal(ok.data.status, undefined, "data holds only the response body");
  assert.equal(ok.metadata.status, 200);
  assert.equal(ok.metadata.statusText, "OK");
  assert.equal(ok.metadata.url, `${MOCK}/anything/orders?id=7&flag`);
  assert.equal(ok.metadata.headers["Content-Type"], "application/json");
  assert.deepEqual(ok.metadata.data, ok.data);
  assert.equal(ok.metadata.success, true);
  assert.equal(ok.metadata.error, undefined);

  const missing = await client.runNodeWithInputs({ node: rest(`${MOCK}/status/404`) });
  assert.equal(missing.success, false);
  assert.match(missing.error, /HTTP 404: Not Found/);
  assert.deepEqual(missing.data, { error: "Not Found", code: 404, url: `${MOCK}/status/404` });
  assert.equal(missing.metadata.status, 404);
  assert.equal(missing.metadata.statusText, "Not Found");
  assert.equal(missing.metadata.success, false);
  assert.match(missing.metadata.error, /HTTP 404/);
  assert.equal(missing.metadata.errorCode, 3000);
  assert.deepEqual(missing.metadata.data, missing.data);

  const empty = await client.runNodeWithInputs({ node: rest(`${MOCK}/status/204`) });
  assert.equal(empty.success, true, empty.error);
  assert.equal(empty.metadata.status, 204);
  assert.equal(empty.metadata.statusText, "No Content");
  assert.equal(empty.metadata.data, "");
  assert.equal(empty.metadata.headers["Content-Type"], undefined);
});

test("the mock host answers like httpbin: status, delay, headers, ip", async () => {
  const { client } = await signedIn();
  const run = (path, extra) => client.runNodeWithInputs({ node: rest(`${MOCK}${path}`, extra) });

  const created = await run("/v1/status/201?x=1");
  assert.equal(created.metadata.status, 201);
  assert.deepEqual(created.data, { status: "Created", code: 201, url: `${MOCK}/v1/status/201?x=1` });
  const broken = await run("/status/503");
  assert.deepEqual(broken.data, { error: "Service Unavailable", code: 503, url: `${MOCK}/status/503` });
  const notModified = await run("/status/304");
  assert.equal(notModified.metadata.status, 304);
  assert.equal(notModified.metadata.data, "");
  const fallsThrough = await run("/status/999");
  assert.equal(fallsThrough.metadata.status, 200);
  assert.equal(fallsThrough.data.method, "GET");

  const before = Date.now();
  const delayed = await run("/delay/1/headers", { headers: { "X-Api-Key": "k1" } });
  assert.ok(Date.now() - before >= 1000, "the answer came after the asked delay");
  assert.equal(delayed.data.headers["X-Api-Key"], "k1");
  assert.deepEqual(Object.keys(delayed.data), ["headers"]);

  assert.deepEqual((await run("/ip")).data, { origin: "127.0.0.1" });
});

test("a GraphQL node is not mocked: the mock host fails like an unknown host", async () => {
  const { client } = await signedIn();
  const result = await client.runNodeWithInputs({
    node: { id: "g", name: "query", type: NodeType.GraphQLQuery, data: { url: `${MOCK}/graphql`, query: "{ ping }", variables: {} } },
  });
  assert.equal(result.success, false);
  assert.match(result.error, /mock-api\.ap-aggregator\.local/);
  assert.match(result.error, /HTTP request failed/);
});

test("a REST step with HTTP >= 400 fails and keeps its output; the workflow goes on", async () => {
  const { client } = await signedIn();
  const runner = (await client.getWallet({ salt: "0" })).address;
  const execution = await client.simulateWorkflow({
    trigger: { id: "t", name: "start", type: TriggerType.Manual, data: { data: { n: 1 }, lang: "json" } },
    nodes: [
      rest(`${MOCK}/status/500`),
      { id: "c", name: "after", type: NodeType.CustomCode, data: { lang: "javascript", source: "return 1" } },
    ],
    edges: [
      { id: "e1", source: "t", target: "r" },
      { id: "e2", source: "t", target: "c" },
    ],
    inputVariables: { settings: { name: "rest-fails", runner } },
  });
  assert.equal(execution.status, ExecutionStatus.PartialSuccess);
  const call = execution.steps.find((s) => s.name === "call");
  assert.equal(call.success, false);
  assert.match(call.error, /HTTP 500/);
  assert.equal(call.output.status, 500);
  assert.deepEqual(call.output.data, { error: "Internal Server Error", code: 500, url: `${MOCK}/status/500` });
  assert.equal(execution.steps.find((s) => s.name === "after").success, true);
});

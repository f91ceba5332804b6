// Other RPCs through the SDK (issue 26, items 10-14 and the address rule): execution reads
// with a bad workflow id, token metadata address forms, ListTasks argument order and
// near-miss addresses, workflow-scoped secrets, event topics stored as sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TriggerFactory, NodeFactory, Edge } from "@avaprotocol/sdk-js";
import { TriggerType, NodeType } from "@avaprotocol/types";
import { signedIn } from "./helpers.mjs";

const token = process.env.AVS_TOKEN;
const UNKNOWN_ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

test("getExecution and getExecutionStatus with an unknown or malformed workflow id: task not found", async () => {
  const { client } = await signedIn();
  for (const id of [UNKNOWN_ULID, "not-a-workflow-id", "0x1234"]) {
    await assert.rejects(client.getExecution(id, UNKNOWN_ULID), (error) => {
      assert.match(String(error.message ?? error), /task not found/);
      assert.equal(error.code, 5, `NOT_FOUND for ${id}`);
      return true;
    });
    await assert.rejects(client.getExecutionStatus(id, UNKNOWN_ULID), (error) => {
      assert.match(String(error.message ?? error), /task not found/);
      assert.equal(error.code, 5);
      return true;
    });
  }
});

test("getTokenMetadata takes 0x, 0X or no prefix in any case; the id is lower case", async () => {
  const { client } = await signedIn();
  const digits = token.slice(2);
  for (const form of [token, `0X${digits.toUpperCase()}`, digits.toLowerCase(), digits.toUpperCase()]) {
    const found = await client.getTokenMetadata({ address: form });
    assert.equal(found.found, true, form);
    assert.equal(found.token.id, token.toLowerCase(), form);
  }
  for (const bad of [`${token}\n`, ` ${token}`, `0x0x${digits}`]) {
    await assert.rejects(client.getTokenMetadata({ address: bad }), /invalid token address format/);
  }
});

test("listTasks checks the wallets before the page arguments; near-miss addresses are refused", async () => {
  const { client } = await signedIn();
  const wallet = (await client.getWallet({ salt: "0" })).address;
  await assert.rejects(client.getWorkflows(["0x123"], { limit: -5 }), /invalid smart account address/);
  for (const miss of [`${wallet}\n`, `${wallet} `, ` ${wallet}`, `0x0x${wallet.slice(2)}`]) {
    await assert.rejects(client.getWorkflows([miss]), (error) => {
      assert.match(String(error.message ?? error), /invalid smart account address/);
      assert.equal(error.code, 3, "INVALID_ARGUMENT");
      return true;
    });
  }
  assert.deepEqual((await client.getWorkflows([wallet])).items, []);
});

// Prints, one per line, every method of the SDK client that sends an RPC to the aggregator.
import { Client } from "@avaprotocol/sdk-js";

const names = new Set();
for (let proto = Client.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name];
    if (name === "constructor" || typeof fn !== "function") continue;
    if (/send(Grpc|Fast|Slow|NoRetry)Request\(/.test(fn.toString()) && !name.startsWith("send")) {
      names.add(name);
    }
  }
}
console.log([...names].sort().join("\n"));

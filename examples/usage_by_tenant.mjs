// Cost per tenant and model from llm.usage, each request once (events can repeat: at-least-once delivery).
import { Kafka, logLevel } from "kafkajs";

const kafka = new Kafka({ brokers: [process.env.KAFKA_BOOTSTRAP_SERVERS ?? "127.0.0.1:9092"], logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: `usage-report-${Date.now()}`, sessionTimeout: 6000 });  // fresh group
await consumer.connect();
await consumer.subscribe({ topic: process.env.USAGE_TOPIC ?? "llm.usage", fromBeginning: true });

const seen = new Set();
const totals = {};                                     // "tenant model" -> sums
let idle;
await new Promise((done) => {
  const stopWhenQuiet = () => { clearTimeout(idle); idle = setTimeout(done, 3000); };   // 3 s without events
  consumer.on(consumer.events.GROUP_JOIN, stopWhenQuiet);
  consumer.run({
    eachMessage: async ({ message }) => {
      stopWhenQuiet();
      const e = JSON.parse(message.value.toString());
      if (seen.has(e.event_id)) return;                // a repeated delivery of an event already counted
      seen.add(e.event_id);
      const t = (totals[`${e.tenant} ${e.model ?? "-"}`] ??= { requests: 0, cost_usd: 0, saved_usd: 0, unpriced: 0,
                                                              cached_input_tokens: 0, reasoning_tokens: 0 });
      t.requests += 1;
      if (e.cost_usd === null) t.unpriced += 1; else t.cost_usd += e.cost_usd;   // null: the model has no price
      t.saved_usd += e.saved_usd ?? 0;                 // v1 events lack the v2 fields: treat them as 0
      t.cached_input_tokens += e.cached_input_tokens ?? 0;
      t.reasoning_tokens += e.reasoning_tokens ?? 0;
    },
  });
});
await consumer.disconnect();
console.table(totals);

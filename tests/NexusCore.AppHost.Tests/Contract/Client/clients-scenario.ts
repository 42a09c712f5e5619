// A frontend's use of ClientsApi through a client generated from the document the running service serves
// (openapi-typescript writes ./clients-api.d.ts; openapi-fetch calls it). It compiles only if every path,
// parameter, header and body below is in the document, and it throws on any answer a frontend would not
// expect. It prints what it saw as one JSON line; GeneratedClientTests asserts the values.
import createClient from "openapi-fetch";
import type { paths } from "./clients-api.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const baseUrl = env("BASE_URL");
const marker = env("MARKER"); // letters and digits only: a whole word the search can find
const writer = createClient<paths>({ baseUrl, headers: { "X-Api-Key": env("WRITER_KEY") } });
const reader = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${env("READER_KEY")}` } });
const admin = createClient<paths>({ baseUrl, headers: { "X-Api-Key": env("ADMIN_KEY") } });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`Unexpected: ${what}`);
}

// Create: three clients, one per program type.
const programs = ["PRIME", "LONGEVITY", "PERFORMANCE"] as const;
const created: { id: number; email: string; programType: string }[] = [];
for (const [index, programType] of programs.entries()) {
  const email = `gen-${marker}-${index}@example.test`;
  const { data, response } = await writer.POST("/api/v1/clients", {
    body: { name: `Generated ${marker} ${index}`, email, programType, status: index === 2 ? "pending" : "active" },
  });
  check(response.status === 201 && data, `create answered ${response.status}`);
  check(response.headers.get("Location")?.endsWith(`/api/v1/clients/${data.id}`), "create's Location");
  created.push({ id: Number(data.id), email: data.email, programType: data.programType });
}

// One client by id, then the 304 its ETag earns.
const one = await reader.GET("/api/v1/clients/{id}", { params: { path: { id: created[0].id } } });
check(one.data && one.response.status === 200, `get answered ${one.response.status}`);
const etag = one.response.headers.get("ETag");
check(etag, "get's ETag");
const again = await reader.GET("/api/v1/clients/{id}", { params: { path: { id: created[0].id }, header: { "If-None-Match": etag } } });
check(again.response.status === 304, `If-None-Match answered ${again.response.status}`);

// PATCH with If-Match: the client becomes inactive.
const patched = await writer.PATCH("/api/v1/clients/{id}", {
  params: { path: { id: created[1].id }, header: { "If-Match": `"${created[1].id}.1"` } },
  body: { status: "inactive" },
});
check(patched.data && patched.data.status === "inactive", `patch answered ${patched.response.status}`);

// Search with filters and a cursor: the marker finds our three; two per page.
const firstPage = await reader.GET("/api/v1/optimized/clients/search/advanced", {
  params: { query: { q: marker, limit: 2, sort: "createdAt", order: "asc", count: "exact" } },
});
check(firstPage.data, `search answered ${firstPage.response.status}`);
check(firstPage.data.nextCursor, "a next cursor after a full first page");
const secondPage = await reader.GET("/api/v1/optimized/clients/search/advanced", {
  params: { query: { q: marker, limit: 2, sort: "createdAt", order: "asc", cursor: firstPage.data.nextCursor } },
});
check(secondPage.data, `second page answered ${secondPage.response.status}`);

// The list with status and program filters (lists: repeated parameters).
const listed = await reader.GET("/api/v1/clients", {
  params: { query: { status: ["active"], programType: ["PRIME", "LONGEVITY"], sort: "createdAt", order: "desc", limit: 200 } },
});
check(listed.data, `list answered ${listed.response.status}`);

// Batch with an Idempotency-Key: the replay answers the same without writing again.
const idempotencyKey = `gen-${marker}`;
const batchBody = {
  mode: "atomic" as const,
  items: [
    { op: "update" as const, id: created[2].id, status: "active" as const },
    { op: "create" as const, name: `Generated ${marker} batch`, email: `gen-${marker}-batch@example.test`, programType: "PRIME" as const },
  ],
};
const batch = await writer.POST("/api/v1/optimized/clients/batch", { params: { header: { "Idempotency-Key": idempotencyKey } }, body: batchBody });
check(batch.data, `batch answered ${batch.response.status}`);
const replay = await writer.POST("/api/v1/optimized/clients/batch", { params: { header: { "Idempotency-Key": idempotencyKey } }, body: batchBody });
check(replay.data, `batch replay answered ${replay.response.status}`);
const batchCreatedId = batch.data.items[1].id;
check(batchCreatedId, "the batch's created id");

// By ids: ours, plus one that does not exist.
const missingId = 9_000_000_000_000;
const byIds = await reader.POST("/api/v1/optimized/clients/by-ids", { body: { ids: [created[0].id, missingId, Number(batchCreatedId)] } });
check(byIds.data, `by-ids answered ${byIds.response.status}`);

// Export (admin) as NDJSON, filtered to our marker.
const exported = await admin.GET("/api/v1/optimized/clients/bulk-export", {
  params: { query: { q: marker }, header: { Accept: "application/x-ndjson" } },
  parseAs: "text",
});
check(exported.response.status === 200 && typeof exported.data === "string", `export answered ${exported.response.status}`);
const exportedEmails = exported.data.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line).email as string);

// Analytics and dashboard.
const today = new Date().toISOString().slice(0, 10);
const analytics = await reader.GET("/api/v1/optimized/clients/analytics/performance", {
  params: { query: { from: today, to: today, granularity: "day" } },
});
check(analytics.data, `analytics answered ${analytics.response.status}`);
const dashboard = await reader.GET("/api/v1/optimized/clients/dashboard");
check(dashboard.data, `dashboard answered ${dashboard.response.status}`);

// A problem, as a frontend reads it: the reader may not create (403), and an unknown id is a 404.
const refused = await reader.POST("/api/v1/clients", { body: { name: "Nope", email: `gen-${marker}-nope@example.test`, programType: "PRIME" } });
check(refused.response.status === 403 && refused.error, `a reader's create answered ${refused.response.status}`);
const notFound = await reader.GET("/api/v1/clients/{id}", { params: { path: { id: missingId } } });
check(notFound.response.status === 404 && notFound.error, `an unknown id answered ${notFound.response.status}`);

// Delete with If-Match "*".
const deleted = await writer.DELETE("/api/v1/clients/{id}", { params: { path: { id: created[0].id }, header: { "If-Match": "*" } } });
check(deleted.response.status === 204, `delete answered ${deleted.response.status}`);

// Cache statistics (admin).
const statistics = await admin.GET("/api/v1/cache/statistics");
check(statistics.data, `statistics answered ${statistics.response.status}`);

console.log(JSON.stringify({
  created: created.map((c) => c.id),
  getEtag: etag,
  notModified: again.response.status,
  patchedStatus: patched.data.status,
  firstPage: firstPage.data.items.map((c) => Number(c.id)),
  firstPageCount: firstPage.data.count,
  secondPage: secondPage.data.items.map((c) => Number(c.id)),
  secondPageCursor: secondPage.data.nextCursor ?? null,
  listed: listed.data.items.filter((c) => c.email.includes(marker)).map((c) => Number(c.id)),
  batch: { succeeded: batch.data.succeeded, statuses: batch.data.items.map((i) => i.status), createdId: Number(batchCreatedId) },
  replay: { succeeded: replay.data.succeeded, createdId: Number(replay.data.items[1].id) },
  byIds: { items: byIds.data.items.map((c) => Number(c.id)), missing: byIds.data.missing.map(Number) },
  exportedEmails,
  analyticsDays: analytics.data.newClients.length,
  analyticsTodayTotal: analytics.data.newClients[0]?.total ?? null,
  dashboardTotal: dashboard.data.totalClients,
  refusedType: refused.error.type,
  notFoundType: notFound.error.type,
  deleted: deleted.response.status,
  statisticsHasHitRate: typeof statistics.data.hitRate === "number",
}));

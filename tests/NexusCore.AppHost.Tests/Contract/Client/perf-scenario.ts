// PerfApi's reads through a client generated from the document the running service serves (./perf-api.d.ts by
// openapi-typescript; openapi-fetch). Compiles only if every path and parameter below is documented; throws
// on an answer a frontend would not expect; prints what it saw as one JSON line for GeneratedClientTests.
import createClient from "openapi-fetch";
import type { paths } from "./perf-api.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const baseUrl = env("BASE_URL");
const reader = createClient<paths>({ baseUrl, headers: { "X-Api-Key": env("READER_KEY") } });
const anonymous = createClient<paths>({ baseUrl });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`Unexpected: ${what}`);
}

const health = await anonymous.GET("/api/v1/performance/health");
check(health.data, `health answered ${health.response.status}`);
const details = await reader.GET("/api/v1/performance/health/details");
check(details.data, `health details answered ${details.response.status}`);
const analytics = await reader.GET("/api/v1/performance/analytics", { params: { query: { window: "15m" } } });
check(analytics.data, `analytics answered ${analytics.response.status}`);
const metrics = await reader.GET("/api/v1/performance/metrics");
check(metrics.data, `metrics answered ${metrics.response.status}`);
const slow = await reader.GET("/api/v1/performance/slow-queries", { params: { query: { threshold: 0.5, window: "1h", limit: 10 } } });
check(slow.data, `slow queries answered ${slow.response.status}`);
const alerts = await reader.GET("/api/v1/performance/alerts");
check(alerts.data, `alerts answered ${alerts.response.status}`);
const recommendations = await reader.GET("/api/v1/performance/optimization/recommendations");
check(recommendations.data, `recommendations answered ${recommendations.response.status}`);
const indexes = await reader.GET("/api/v1/performance/indexes");
check(indexes.data, `indexes answered ${indexes.response.status}`);
const summary = await reader.GET("/api/v1/performance/telemetry/summary");
check(summary.data, `telemetry summary answered ${summary.response.status}`);
const application = await reader.GET("/api/v1/performance/indexes/applications/{applicationId}", {
  params: { path: { applicationId: "00000000000000000000000000000000" } },
});
check(application.response.status === 404 && application.error, `an unknown application answered ${application.response.status}`);

// Without a key: a problem, typed as the document says.
const refused = await anonymous.GET("/api/v1/performance/metrics");
check(refused.response.status === 401 && refused.error, `metrics without a key answered ${refused.response.status}`);

console.log(JSON.stringify({
  health: health.data.status,
  detailsStatus: details.data.status,
  detailsDependencies: Object.keys(details.data.dependencies).sort(),
  analyticsWindow: analytics.data.window,
  slowThresholdSeconds: slow.data.thresholdSeconds,
  slowWindow: slow.data.window,
  alertsIsList: Array.isArray(alerts.data.active),
  recommendationsWindow: recommendations.data.window,
  indexesPlanning: typeof indexes.data.planning === "string",
  applicationType: application.error.type,
  refusedType: refused.error.type,
  refusedStatus: refused.error.status,
}));

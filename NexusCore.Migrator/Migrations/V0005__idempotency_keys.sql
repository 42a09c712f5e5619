-- Results of requests sent with an Idempotency-Key, so a retry replays the first answer instead of
-- writing again. The row is written in the same transaction as the request's writes: a request
-- that died midway left nothing, and its retry runs afresh. Keys are scoped by caller and route.
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status_code  integer     NOT NULL,
    response     bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- Expired keys are removed by age.
CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at);

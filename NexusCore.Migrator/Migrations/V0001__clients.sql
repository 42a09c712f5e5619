-- Clients of the coaching platform, with every index of the seed design.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE clients (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL,
    email         text        NOT NULL,
    status        text        NOT NULL DEFAULT 'active',
    program_type  text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Bumped on every update: the basis of ETags and optimistic concurrency.
    version       integer     NOT NULL DEFAULT 1,
    -- Whole-word search over name and email ('simple': names are not stemmed).
    search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', name || ' ' || email)
    ) STORED,
    CONSTRAINT clients_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT clients_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT clients_status_known CHECK (status IN ('active', 'inactive', 'pending')),
    CONSTRAINT clients_program_type_known CHECK (program_type IN ('PRIME', 'LONGEVITY', 'PERFORMANCE'))
);

-- Email is unique whatever its letter case; this index also serves lookups by email.
CREATE UNIQUE INDEX ux_clients_email_lower ON clients (lower(email));
CREATE INDEX ix_clients_status ON clients (status);
CREATE INDEX ix_clients_program_type ON clients (program_type);
CREATE INDEX ix_clients_created_at ON clients (created_at);
CREATE INDEX ix_clients_updated_at ON clients (updated_at);
CREATE INDEX ix_clients_status_program_type ON clients (status, program_type);
CREATE INDEX ix_clients_status_created_at ON clients (status, created_at);
CREATE INDEX ix_clients_search_vector ON clients USING gin (search_vector);

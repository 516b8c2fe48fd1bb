-- Clearing schema, version 1. Money is bigint minor units of the feed's currency. Tables that hold rider data
-- lead with the account (or carry it) so that they can be distributed by account (Citus: account as the
-- distribution column; reference tables: operators, routes, stops, devices, key_set_versions).

CREATE TABLE operators (
  operator_id text PRIMARY KEY,
  name text NOT NULL,
  time_zone text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Each imported GTFS feed applies from valid_from on; the files are kept so that any process can rebuild the fare
-- engine of the day it prices.
CREATE TABLE gtfs_feeds (
  feed_id bigserial PRIMARY KEY,
  valid_from date NOT NULL UNIQUE,
  source text NOT NULL,
  sha256 bytea NOT NULL,
  files jsonb NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE routes (
  feed_id bigint NOT NULL REFERENCES gtfs_feeds ON DELETE CASCADE,
  route_id text NOT NULL,
  operator_id text NOT NULL,
  network_id text,
  route_type int NOT NULL,
  short_name text,
  long_name text,
  PRIMARY KEY (feed_id, route_id)
);

CREATE TABLE stops (
  feed_id bigint NOT NULL REFERENCES gtfs_feeds ON DELETE CASCADE,
  stop_id text NOT NULL,
  name text,
  location_type int NOT NULL,
  parent_station text,
  PRIMARY KEY (feed_id, stop_id)
);

CREATE TABLE devices (
  device_id text PRIMARY KEY,
  operator_id text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('metro-entry', 'metro-exit', 'bus')),
  station_id text,
  stop_id text,
  route_id text,
  cert_thumbprint text NOT NULL UNIQUE,
  cert_not_after timestamptz NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  config_version int NOT NULL DEFAULT 1,
  config_document text NOT NULL
);

-- What each gate last reported (POST /device/v1/status) and what clearing saw of its uploads.
CREATE TABLE device_status (
  device_id text PRIMARY KEY REFERENCES devices,
  reported_at timestamptz NOT NULL,
  sent_at timestamptz,
  key_set_version bigint,
  deny_list_version bigint,
  config_version bigint,
  journal_backlog bigint,
  highest_sequence bigint,
  last_upload_at timestamptz,
  last_sync_at timestamptz,
  clock_offset_ms bigint,
  tap_counts jsonb NOT NULL DEFAULT '{}',
  p99_latency_micros bigint,
  software_version text
);

CREATE TABLE device_progress (
  device_id text PRIMARY KEY,
  contiguous_upto bigint NOT NULL DEFAULT 0,
  highest_seq bigint NOT NULL DEFAULT 0,
  taps_stored bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  refused_by_clearing bigint NOT NULL DEFAULT 0,
  last_upload_at timestamptz
);

-- Every key set version ever published, so that a tap is re-verified with the key set of its time.
CREATE TABLE key_set_versions (
  version bigint PRIMARY KEY,
  issued_at timestamptz NOT NULL,
  document text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deny_list_versions (
  version bigint PRIMARY KEY,
  added_accounts text[] NOT NULL,
  removed_accounts text[] NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);

-- (device, seq) is unique across all days here; taps itself is partitioned by service day, and a partitioned
-- table's unique keys must include the partition column.
CREATE TABLE tap_ledger (
  device_id text NOT NULL,
  seq bigint NOT NULL,
  service_day date NOT NULL,
  content_hash bytea NOT NULL,
  PRIMARY KEY (device_id, seq)
);

CREATE TABLE taps (
  service_day date NOT NULL,
  device_id text NOT NULL,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  mode smallint NOT NULL,
  accepted boolean NOT NULL,
  gate_reason text NOT NULL,
  clearing_reason text NOT NULL,
  flags int NOT NULL,
  operator_id text NOT NULL,
  station_id text,
  stop_id text,
  route_id text,
  account text,
  shard smallint NOT NULL,
  category text,
  credential_id bigint,
  time_counter bigint,
  key_set_version bigint,
  deny_list_version bigint,
  latency_micros bigint,
  code text NOT NULL,
  PRIMARY KEY (service_day, device_id, seq)
) PARTITION BY RANGE (service_day);

CREATE INDEX taps_account ON taps (service_day, shard, account, at);

-- First acceptance of each code (replay key), per service day: a second device accepting the same code is a
-- duplicate use. The primary key makes concurrent batches see each other.
CREATE TABLE code_uses (
  service_day date NOT NULL,
  credential_id bigint NOT NULL,
  time_counter bigint NOT NULL,
  device_id text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (service_day, credential_id, time_counter)
) PARTITION BY RANGE (service_day);

CREATE TABLE service_days (
  service_day date PRIMARY KEY,
  closed_at timestamptz,
  cleared_at timestamptz,
  clearing_runs int NOT NULL DEFAULT 0,
  balance_checked_at timestamptz,
  balance_ok boolean
);

-- Account-days with taps not yet priced. Ingest adds them; clearing takes them off in the transaction that prices
-- them, so a tap committed later leaves its row behind for the next run.
CREATE TABLE dirty_account_days (
  service_day date NOT NULL,
  shard smallint NOT NULL,
  account text NOT NULL,
  PRIMARY KEY (service_day, shard, account)
);

CREATE TABLE accounts (
  account text PRIMARY KEY,
  debt bigint NOT NULL DEFAULT 0 CHECK (debt >= 0),
  blocked boolean NOT NULL DEFAULT false,
  on_deny_list boolean NOT NULL DEFAULT false,
  deny_list_version bigint,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_days (
  account text NOT NULL,
  service_day date NOT NULL,
  shard smallint NOT NULL,
  revision int NOT NULL,
  currency text NOT NULL,
  fare_total bigint NOT NULL,
  priced_total bigint NOT NULL,
  charged_total bigint NOT NULL,
  journeys int NOT NULL,
  taps int NOT NULL,
  flags int NOT NULL,
  priced_at timestamptz NOT NULL,
  PRIMARY KEY (account, service_day)
);

CREATE INDEX account_days_day ON account_days (service_day);

CREATE TABLE journeys (
  account text NOT NULL,
  service_day date NOT NULL,
  journey_no int NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  category text,
  fare_amount bigint NOT NULL,
  cap_adjustment bigint NOT NULL,
  charged_amount bigint NOT NULL,
  currency text NOT NULL,
  flags int NOT NULL,
  PRIMARY KEY (account, service_day, journey_no)
);

CREATE TABLE journey_legs (
  account text NOT NULL,
  service_day date NOT NULL,
  journey_no int NOT NULL,
  leg_no int NOT NULL,
  mode smallint NOT NULL,
  operator_id text,
  route_id text,
  network_id text,
  from_stop text,
  to_stop text,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  product_id text,
  amount bigint NOT NULL,
  transfer_product_id text,
  transfer_amount bigint NOT NULL,
  share bigint NOT NULL,
  entry_device text,
  entry_seq bigint,
  exit_device text,
  exit_seq bigint,
  flags int NOT NULL,
  PRIMARY KEY (account, service_day, journey_no, leg_no)
);

CREATE INDEX journey_legs_day ON journey_legs (service_day, operator_id);

-- One row per charge or refund of an account-day: revision 1 is the day's charge, later revisions carry only the
-- difference after late taps. The unique keys are what make an account-day impossible to charge twice.
CREATE TABLE charges (
  charge_id bigserial PRIMARY KEY,
  account text NOT NULL,
  service_day date NOT NULL,
  revision int NOT NULL,
  amount bigint NOT NULL,
  currency text NOT NULL,
  idempotency_key text NOT NULL UNIQUE,
  status text NOT NULL CHECK (status IN ('pending', 'submitted', 'succeeded', 'declined', 'failed', 'refunded')),
  provider_ref text,
  attempts int NOT NULL DEFAULT 0,
  in_debt boolean NOT NULL DEFAULT false,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account, service_day, revision)
);

CREATE INDEX charges_open ON charges (status, next_attempt_at) WHERE status IN ('pending', 'submitted', 'declined');
CREATE INDEX charges_day ON charges (service_day);

CREATE TABLE payment_events (
  event_id bigserial PRIMARY KEY,
  charge_id bigint NOT NULL REFERENCES charges,
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  detail text
);

-- Each charge apportioned to operators: gross shares sum to the charge; fee + net = gross.
CREATE TABLE settlement_lines (
  charge_id bigint NOT NULL REFERENCES charges,
  operator_id text NOT NULL,
  service_day date NOT NULL,
  gross bigint NOT NULL,
  fee bigint NOT NULL,
  net bigint NOT NULL,
  CHECK (gross = fee + net),
  PRIMARY KEY (charge_id, operator_id)
);

CREATE INDEX settlement_lines_day ON settlement_lines (service_day, operator_id);

CREATE TABLE balance_checks (
  check_id bigserial PRIMARY KEY,
  service_day date NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now(),
  charges bigint NOT NULL,
  operator_shares bigint NOT NULL,
  fees bigint NOT NULL,
  ok boolean NOT NULL,
  detail text
);

CREATE TABLE jobs (
  job_id bigserial PRIMARY KEY,
  kind text NOT NULL,
  job_key text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts int NOT NULL DEFAULT 0,
  max_attempts int NOT NULL DEFAULT 5,
  run_after timestamptz NOT NULL DEFAULT now(),
  locked_by text,
  started_at timestamptz,
  finished_at timestamptz,
  last_error text,
  result text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, job_key)
);

CREATE INDEX jobs_queued ON jobs (run_after) WHERE status = 'queued';

CREATE TABLE api_tokens (
  token_id bigserial PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'planner')),
  operator_id text,
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CHECK ((role = 'operator') = (operator_id IS NOT NULL))
);

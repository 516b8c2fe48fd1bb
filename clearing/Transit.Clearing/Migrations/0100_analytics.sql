-- Ridership analytics, version 1. Nothing here holds an account token: riders are keyed pseudonyms (HMAC-SHA256
-- under the deployment's secret, first 8 bytes). Refreshed by the analytics-refresh job, never per query.

-- Every rollup table in one: a cell is one combination of dimensions on one service day; dimensions a table does
-- not use are '' (or -1 / 0), so that all of them form the primary key. tbl is Transit.Analytics.Rollups.RollupTable.
CREATE TABLE analytics_cells (
  tbl smallint NOT NULL,
  service_day date NOT NULL,
  hour smallint NOT NULL,
  operator_id text NOT NULL,
  mode text NOT NULL,
  route_id text NOT NULL,
  stop_id text NOT NULL,
  to_operator_id text NOT NULL,
  to_mode text NOT NULL,
  to_route_id text NOT NULL,
  to_stop_id text NOT NULL,
  category text NOT NULL,
  reason text NOT NULL,
  value int NOT NULL,
  trip_id text NOT NULL,
  m0 bigint NOT NULL,
  m1 bigint NOT NULL,
  m2 bigint NOT NULL,
  m3 bigint NOT NULL,
  -- Distinct riders of the cell that day; while fewer than 64, their pseudonyms too, so that suppression over
  -- several days or cells can count distinct riders exactly where it decides.
  riders bigint NOT NULL CHECK (riders >= 0),
  small_riders bigint[],
  PRIMARY KEY (tbl, service_day, hour, operator_id, mode, route_id, stop_id, to_operator_id, to_mode, to_route_id, to_stop_id, category, reason, value, trip_id)
);

-- Which taps each rider-day was last computed from (hashes of device and sequence), so that a refresh can take the
-- rider-day's old contribution out of the cells before adding the new one.
CREATE TABLE analytics_rider_days (
  service_day date NOT NULL,
  rider bigint NOT NULL,
  tap_ids bigint[] NOT NULL,
  PRIMARY KEY (service_day, rider)
);

CREATE TABLE analytics_days (
  service_day date PRIMARY KEY,
  -- Taps received up to here have been counted (a refresh looks back a margin before it for late commits).
  watermark timestamptz,
  refreshed_at timestamptz,
  closed_refresh_at timestamptz,
  rider_days bigint NOT NULL DEFAULT 0
);

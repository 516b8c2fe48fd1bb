-- Taps clearing refused, per device and reason: device-mismatch-*, stop-not-on-route, malformed-*, refused-<ride-code
-- reason>. Counted by ingest in the statement that stores the taps, so the fleet view raises a device's alarm without
-- scanning taps.
CREATE TABLE device_refusals (
  device_id text NOT NULL,
  reason text NOT NULL,
  taps bigint NOT NULL,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL,
  last_seq bigint NOT NULL,
  PRIMARY KEY (device_id, reason)
);

-- What a gate reports about its own trouble (POST /device/v1/status): its alarm light, its latest upload and sync
-- failures ({"reason","message","since","failures"}), and its free disk.
ALTER TABLE device_status
  ADD COLUMN alarm text,
  ADD COLUMN upload_error jsonb,
  ADD COLUMN sync_error jsonb,
  ADD COLUMN disk_free_bytes bigint;

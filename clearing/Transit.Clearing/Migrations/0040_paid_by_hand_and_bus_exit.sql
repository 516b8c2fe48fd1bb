-- What the rider paid by hand (POST /api/accounts/{account}/settle) towards a charge in debt, as opposed to what the
-- payment provider collected: a settlement first cancels the charge's retry at the provider (or takes its outcome),
-- and records here only the part the provider did not collect.
ALTER TABLE charges ADD COLUMN paid_by_hand bigint NOT NULL DEFAULT 0;


-- Bus tap-off validators (mode bus-exit): networks whose fares depend on the alighting zone need the destination.
ALTER TABLE devices DROP CONSTRAINT devices_mode_check;
ALTER TABLE devices ADD CONSTRAINT devices_mode_check CHECK (mode IN ('metro-entry', 'metro-exit', 'bus', 'bus-exit'));

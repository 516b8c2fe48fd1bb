-- Payment batches claim open charges in charge_id order. The old index, by (status, next_attempt_at), made every batch
-- read and sort all open charges to find the next 2,000, so a day's payments cost grew with the square of its
-- charges; by charge_id the claim reads only the rows it takes (and the few declined charges waiting for a retry).
DROP INDEX charges_open;
CREATE INDEX charges_due ON charges (charge_id) WHERE status IN ('pending', 'submitted', 'declined');

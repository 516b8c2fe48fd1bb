-- Clearing per issuer (issue 16). An external issuer's rider is the account key '<issuer_id> <account>' in every table
-- keyed by account (taps, dirty_account_days, account_days, journeys, journey_legs, charges): ride-code accounts are
-- printable ASCII without spaces, so such a key can never equal a home account or another issuer's. The home
-- issuer's accounts keep their plain names, so every existing row keeps its meaning.

-- The issuer the tap's code names ('home' for a TR1 code, or one clearing could not read).
ALTER TABLE taps ADD COLUMN issuer_id text NOT NULL DEFAULT 'home';

-- Whose rider a charge is. 'home' charges are collected from riders as before; another issuer's are 'issuer-billed':
-- owed by the issuer through its daily statement, never sent to the payment provider.
ALTER TABLE charges ADD COLUMN issuer_id text NOT NULL DEFAULT 'home';
ALTER TABLE charges DROP CONSTRAINT charges_status_check;
ALTER TABLE charges ADD CONSTRAINT charges_status_check
  CHECK (status IN ('pending', 'submitted', 'succeeded', 'declined', 'failed', 'refunded', 'issuer-billed')) NOT VALID;
-- NOT VALID: rows already stored are all 'home' and met the older check; a large table is not scanned to show it.
ALTER TABLE charges ADD CONSTRAINT charges_issuer_billed CHECK ((issuer_id = 'home') = (status <> 'issuer-billed')) NOT VALID;

-- Whose rider's charge a settlement line apportions (the charge's issuer_id, kept on the line so the books of each
-- issuer add up without a join). A line of another issuer's rider carries no fee (fee 0, net = gross): that fee is
-- taken once per issuer, operator and day in issuer_dues, so it is the agreed rate of the pair's whole day, rounded
-- once, not a sum of per-rider roundings.
ALTER TABLE settlement_lines ADD COLUMN issuer_id text NOT NULL DEFAULT 'home';
ALTER TABLE settlement_lines ADD CONSTRAINT settlement_lines_issuer_fee CHECK (issuer_id = 'home' OR fee = 0) NOT VALID;

-- What each issuer other than 'home' owes each operator for a service day: gross = the sum of its riders' settlement
-- lines on that operator; fee = gross x fee_basis_points / 10,000 rounded half away from zero (the acceptance in force
-- that day); net = gross - fee, paid to the operator. Recomputed whole by every clearing run of the day.
CREATE TABLE issuer_dues (
  service_day date NOT NULL,
  issuer_id text NOT NULL,
  operator_id text NOT NULL,
  gross bigint NOT NULL,
  fee_basis_points integer NOT NULL CHECK (fee_basis_points BETWEEN 0 AND 10000),
  fee bigint NOT NULL,
  net bigint NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  CHECK (gross = fee + net),
  CHECK (issuer_id <> 'home'),
  PRIMARY KEY (service_day, issuer_id, operator_id)
);

CREATE INDEX charges_issuer_day ON charges (issuer_id, service_day) WHERE issuer_id <> 'home';

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
  CHECK (status IN ('pending', 'submitted', 'succeeded', 'declined', 'failed', 'refunded', 'issuer-billed'));
ALTER TABLE charges ADD CONSTRAINT charges_issuer_billed CHECK ((issuer_id = 'home') = (status <> 'issuer-billed'));

-- The fee a settlement line was charged at (basis points): the platform's for home riders, the acceptance's in force
-- that day for another issuer's, so a statement shows the rate each share was settled at.
ALTER TABLE settlement_lines ADD COLUMN fee_basis_points integer;

CREATE INDEX charges_issuer_day ON charges (issuer_id, service_day) WHERE issuer_id <> 'home';

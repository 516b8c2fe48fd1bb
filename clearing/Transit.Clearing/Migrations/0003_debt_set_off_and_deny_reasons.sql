-- A refund owed to an account in debt first pays the debt off: set_off is the part of a charge settled that way
-- (positive on a declined charge, negative on a refund). What the provider is still asked for is amount - set_off,
-- and an account's debt is the sum of that over its charges in debt.
ALTER TABLE charges ADD COLUMN set_off bigint NOT NULL DEFAULT 0;

-- Why an account is denied: 'debt' (clearing, while it owes money) and 'manual' (an operator). It stays on the deny
-- list while any reason remains; blocked follows the reasons.
ALTER TABLE accounts ADD COLUMN deny_reasons text[] NOT NULL DEFAULT '{}'
  CHECK (deny_reasons <@ ARRAY['debt', 'manual']);
UPDATE accounts SET deny_reasons = '{debt}' WHERE blocked;
ALTER TABLE accounts DROP COLUMN blocked;
ALTER TABLE accounts ADD COLUMN blocked boolean GENERATED ALWAYS AS (cardinality(deny_reasons) > 0) STORED;

-- Riders who signed up through /rider/v1: their bearer tokens live apart from the operators' api_tokens, so a rider
-- token never reaches the operators' API and an operator token never speaks for a rider. Stored as SHA-256 hashes,
-- each expiring and revocable.
CREATE TABLE rider_tokens (
  token_id bigserial PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  account text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

CREATE INDEX rider_tokens_account ON rider_tokens (account);

-- Every credential the issuance API signed: which phone key, for how long, asked from where. A leaked phone key is
-- found here by its credential id, which the deny list can name.
CREATE TABLE rider_credentials (
  credential_id text PRIMARY KEY,
  account text NOT NULL,
  key_id int NOT NULL,
  phone_key bytea NOT NULL,
  not_before timestamptz NOT NULL,
  not_after timestamptz NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  client_address text
);

CREATE INDEX rider_credentials_account ON rider_credentials (account, issued_at);

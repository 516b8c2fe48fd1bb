-- API tokens expire. Tokens made before expiry existed get one default term from now rather than from their
-- creation, so that upgrading does not lock every operator out at once; `transit tokens list` shows the date.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;

-- Issuers other than the operator's own (issue 16): each is an independent trust root whose TR2 codes the operators'
-- gates may accept. The operator's own issuer ('home', TR1 codes) is the key directory clearing already holds and is
-- not a row here. Documents are kept as received (text, not jsonb) because their signatures cover the exact bytes.
CREATE TABLE issuers (
  issuer_id text PRIMARY KEY CHECK (issuer_id ~ '^[a-z0-9][a-z0-9-]{0,7}$' AND issuer_id <> 'home'),
  name text NOT NULL,
  algorithm text NOT NULL CHECK (algorithm IN ('p256', 'sm2')),
  root_public_key text NOT NULL,      -- the issuer's root.pub.json
  key_set text NOT NULL,              -- its newest signed keyset.json, verified under root_public_key on arrival
  key_set_version bigint NOT NULL,
  deny_list text,                     -- its newest signed deny list (relayed to the gates that accept it)
  deny_list_version bigint,
  added_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- An operator's acceptance list: which issuers its gates honour from which service day on, and the fee (basis points
-- of the gross fares of that issuer's riders on that operator) the agreement gives the clearing platform. A later
-- row for the same pair supersedes the earlier one from its valid_from; valid_to closes an acceptance.
CREATE TABLE issuer_acceptance (
  operator_id text NOT NULL,          -- checked against the imported feeds when written (feeds may be re-imported)
  issuer_id text NOT NULL REFERENCES issuers,
  valid_from date NOT NULL,
  valid_to date,
  fee_basis_points integer NOT NULL CHECK (fee_basis_points BETWEEN 0 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operator_id, issuer_id, valid_from),
  CHECK (valid_to IS NULL OR valid_to > valid_from)
);

CREATE INDEX issuer_acceptance_issuer ON issuer_acceptance (issuer_id, valid_from);

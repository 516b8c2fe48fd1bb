-- The signed acceptance list each operator's gates sync (issue 16; docs/interoperability.md, "Acceptance document"),
-- with the issuers' key sets and deny lists shipped beside it. Rebuilt and re-signed when what it says changes (an
-- acceptance row, an issuer's root key, key set or deny list, or the window in force): the fingerprint is that content,
-- so clearing notices changes however the issuers and issuer_acceptance tables were written. The version is the one
-- the document carries and the gates' ETag; it only grows.
CREATE TABLE issuer_acceptance_documents (
  operator_id text PRIMARY KEY,
  version bigint NOT NULL CHECK (version >= 1),
  fingerprint text NOT NULL,
  bundle text NOT NULL,               -- the device API's answer: the signed document and each issuer's key set and deny list
  signed_at timestamptz NOT NULL DEFAULT now()
);

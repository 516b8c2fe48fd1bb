-- Ingest writes every tap through three indexes (ledger, first uses, taps' account index); the primary key of taps
-- was a fourth. (device, seq) is unique across all days in tap_ledger already, which every tap enters first in the
-- same transaction, so the partition-local key on (service_day, device, seq) only repeated it. Lookups of single taps
-- go by day, shard and account (taps_account).
ALTER TABLE taps DROP CONSTRAINT taps_pkey;

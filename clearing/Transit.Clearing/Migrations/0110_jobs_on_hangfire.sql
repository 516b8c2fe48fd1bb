-- Jobs run on Hangfire (schema hangfire, installed at startup by clearing, see docs/clearing.md): the home-made queue's table goes.
DROP TABLE jobs;

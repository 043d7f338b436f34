-- A webhook's name is unique within its organisation (the store reports a
-- clash as a conflict), and operators' "who did this WARP advisory reach"
-- looks alerts up by advisory.
CREATE UNIQUE INDEX webhooks_org_name ON webhooks (org_id, name);
CREATE INDEX alerts_warp ON alerts (warp_advisory_id);

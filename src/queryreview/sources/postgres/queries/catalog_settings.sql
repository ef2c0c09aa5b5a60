-- Planner and statistics settings, as SHOW prints them (units included). Parameter: names.
-- pg_settings lists only what this role may read, so current_setting() cannot fail here.
SELECT /* queryreview */ g.name, current_setting(g.name) AS value
FROM pg_settings AS g
WHERE g.name = ANY (%(names)s)
ORDER BY g.name

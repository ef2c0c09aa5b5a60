-- Extensions: installed (with version) and available to CREATE EXTENSION.
SELECT /* queryreview */ e.extname AS name, e.extversion AS installed_version, NULL AS default_version
FROM pg_extension AS e
UNION ALL
SELECT a.name, NULL, a.default_version
FROM pg_available_extensions AS a
WHERE a.installed_version IS NULL
ORDER BY name

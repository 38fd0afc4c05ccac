//! On PostgreSQL, `quorum_walk_from`: the breadth-first walk of `quorum_walk` (migration 3)
//! from several roots at once, now only. A change's blast radius and its conflicts walk from all
//! its CIs; the portable recursive statement re-expands a CI once per distance at which it is
//! reachable, which from five well-connected CIs cost 4× a plain reachability query.
//!
//! Returns one row per CI reached, the roots included (distance 0): its distance, the CI it is
//! reached from (the smallest id among those one hop nearer) and the smallest relationship type
//! of that hop; the roots' rows carry in `beyond` the number of links past `max_depth` to CIs
//! not reached.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CREATE: &str = r#"
CREATE OR REPLACE FUNCTION quorum_walk_from(roots text[], max_depth int, against_arrow boolean)
RETURNS TABLE (id text, depth int, parent text, via text, beyond bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    near text := CASE WHEN against_arrow THEN 'target_id' ELSE 'source_id' END;
    far text := CASE WHEN against_arrow THEN 'source_id' ELSE 'target_id' END;
    step text;
    distance int := 0;
    added bigint := 1;
    cut bigint := 0;
BEGIN
    IF to_regclass('pg_temp.quorum_walk_seen') IS NULL THEN
        CREATE TEMP TABLE quorum_walk_seen (
            id text PRIMARY KEY, depth int NOT NULL, parent text, via text
        ) ON COMMIT DELETE ROWS;
    END IF;
    TRUNCATE quorum_walk_seen;
    INSERT INTO quorum_walk_seen SELECT DISTINCT r, 0, NULL::text, NULL::text FROM unnest(roots) r;
    step := format(
        'INSERT INTO quorum_walk_seen (id, depth, parent, via)
         SELECT DISTINCT ON (r.%2$I) r.%2$I, $1, r.%1$I, r.type
         FROM quorum_walk_seen s JOIN ci_relationship r ON r.%1$I = s.id AND r.removed_at IS NULL
         WHERE s.depth = $1 - 1
         ORDER BY r.%2$I, r.%1$I, r.type
         ON CONFLICT (id) DO NOTHING',
        near, far);
    WHILE distance < max_depth AND added > 0 LOOP
        distance := distance + 1;
        EXECUTE step USING distance;
        GET DIAGNOSTICS added = ROW_COUNT;
    END LOOP;
    IF added > 0 THEN
        EXECUTE format(
            'SELECT count(*) FROM quorum_walk_seen s JOIN ci_relationship r ON r.%1$I = s.id AND r.removed_at IS NULL
             WHERE s.depth = $1 AND NOT EXISTS (SELECT 1 FROM quorum_walk_seen x WHERE x.id = r.%2$I)',
            near, far)
        INTO cut USING max_depth;
    END IF;
    RETURN QUERY SELECT s.id, s.depth, s.parent, s.via,
        CASE WHEN s.depth = 0 THEN cut ELSE 0::bigint END
        FROM quorum_walk_seen s;
END
$fn$
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(CREATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "DROP FUNCTION IF EXISTS quorum_walk_from(text[], int, boolean)",
                )
                .await?;
        }
        Ok(())
    }
}

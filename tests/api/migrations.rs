//! Issue 15 item 3: "migrations are forward-only and each runs in a transaction where the database
//! allows" — both backends allow transactional DDL, so every migration is wrapped (sea-orm alone
//! would wrap PostgreSQL's only), and none can be rolled back.

use migration::{
    async_trait, sea_query::Alias, ConnectionTrait, DbErr, DynIden, IntoIden, MigrationName,
    MigrationTrait, Migrator, MigratorTrait, SchemaManager, Table,
};

use crate::helpers::spawn_app;

/// Creates a table, then fails: a migration that breaks half-way.
struct CreatesThenFails;

impl MigrationName for CreatesThenFails {
    fn name(&self) -> &str {
        "m29991231_000001_creates_then_fails"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatesThenFails {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("half_done"))
                    .col(
                        migration::ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .to_owned(),
            )
            .await?;
        Err(DbErr::Migration(
            "the second step of this migration fails".into(),
        ))
    }
}

/// A migrator of that one migration, wrapped as the real ones are, with its own bookkeeping table
/// (so it runs beside the service's real migrations in the test's database).
struct FailingMigrator;

#[async_trait::async_trait]
impl MigratorTrait for FailingMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        migration::in_transactions(vec![Box::new(CreatesThenFails)])
    }

    fn migration_table_name() -> DynIden {
        Alias::new("test_failing_migrations").into_iden()
    }
}

#[tokio::test]
async fn a_migration_that_fails_half_way_leaves_nothing_behind_and_none_goes_back() {
    let app = spawn_app().await;
    assert!(
        Migrator::migrations()
            .iter()
            .all(|m| m.use_transaction() == Some(true)),
        "every migration runs in its own transaction, on SQLite too"
    );

    let failed = FailingMigrator::up(&app.db, None).await;
    assert!(failed.is_err(), "{failed:?}");
    let manager = SchemaManager::new(&app.db);
    assert!(
        !manager.has_table("half_done").await.expect("has_table"),
        "the failed migration's first step was rolled back"
    );
    let recorded = app
        .db
        .query_one_raw(migration::sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM test_failing_migrations",
        ))
        .await
        .expect("count")
        .expect("a row");
    let recorded: i64 = recorded.try_get("", "n").expect("n");
    assert_eq!(
        recorded, 0,
        "the failed migration is not recorded as applied"
    );
    // Tried again at the next start, it runs whole (and fails whole) again.
    assert!(FailingMigrator::up(&app.db, None).await.is_err());
    assert!(!manager.has_table("half_done").await.expect("has_table"));

    // Forward only: rolling back the last migration is refused and changes nothing.
    let applied_before = Migrator::get_applied_migrations(&app.db)
        .await
        .expect("applied")
        .len();
    let refused = Migrator::down(&app.db, Some(1)).await;
    let message = format!("{:?}", refused.expect_err("no migration goes back"));
    assert!(message.contains("only go forward"), "{message}");
    assert_eq!(
        Migrator::get_applied_migrations(&app.db)
            .await
            .expect("applied")
            .len(),
        applied_before
    );
    assert!(manager
        .has_table("login_failures")
        .await
        .expect("has_table"));
}
